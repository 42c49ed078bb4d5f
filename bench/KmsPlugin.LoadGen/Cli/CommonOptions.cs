using System.CommandLine;
using KmsPlugin.LoadGen.Transport;

namespace KmsPlugin.LoadGen.Cli;

/// <summary>Options the run and coldstart commands share.</summary>
internal static class CommonOptions
{
    public static Option<string> Socket() => new("--socket") { Description = "The server's unix socket", Required = true };

    public static Option<string> Api()
    {
        var option = new Option<string>("--api") { Description = "KMS API: v1 (package v1beta1) or v2", DefaultValueFactory = _ => "v2" };
        option.AcceptOnlyFromAmong("v1", "v2");
        return option;
    }

    public static Option<string> Authority()
    {
        var option = new Option<string>("--authority")
        {
            Description = "HTTP/2 :authority to send: localhost (kube-apiserver v2 >= 1.32), socket-path (kube-apiserver v1, and v2 before 1.32) or percent-encoded (the socket path with '/' as %2F, as newer grpc-go sends it)",
            DefaultValueFactory = _ => "localhost",
        };
        option.AcceptOnlyFromAmong("localhost", "socket-path", "percent-encoded");
        return option;
    }

    public static Option<int> Concurrency(int defaultValue) =>
        new("--concurrency") { Description = "Concurrent callers", DefaultValueFactory = _ => defaultValue };

    public static Option<string> Timeout() =>
        new("--timeout") { Description = "Deadline of each call, as kube-apiserver's KMS timeout", DefaultValueFactory = _ => "3s" };

    public static Option<string> Output()
    {
        var option = new Option<string>("--output") { Description = "text or json", DefaultValueFactory = _ => "text" };
        option.AcceptOnlyFromAmong("text", "json");
        return option;
    }

    public static AuthorityMode ParseAuthority(string text) => text switch
    {
        "socket-path" => AuthorityMode.SocketPath,
        "percent-encoded" => AuthorityMode.PercentEncoded,
        _ => AuthorityMode.Localhost,
    };
}
