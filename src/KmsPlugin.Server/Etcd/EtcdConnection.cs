using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using dotnet_etcd;
using Grpc.Net.Client;

namespace KmsPlugin.Server.Etcd;

/// <summary>An etcd v3 client as `etcdctl` is given one: endpoints, and optionally a CA and a client certificate.</summary>
internal static class EtcdConnection
{
    public static IReadOnlyList<string> Check(string endpoints, string? caFile, string? certFile, string? keyFile)
    {
        var problems = new List<string>();
        foreach (var endpoint in endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                problems.Add($"--endpoints: \"{endpoint}\" is not an http:// or https:// URL");
            }
        }

        foreach (var (flag, file) in new[] { ("--cacert", caFile), ("--cert", certFile), ("--key", keyFile) })
        {
            if (file is not null && !File.Exists(file))
            {
                problems.Add($"{flag}: file \"{file}\" does not exist");
            }
        }

        if ((certFile is null) != (keyFile is null))
        {
            problems.Add("--cert and --key go together");
        }

        return problems;
    }

    /// <summary>
    /// The endpoints as given. Each gets its own client (<see cref="Connect"/>) so that TLS checks the
    /// certificate against that endpoint's own host name.
    /// </summary>
    public static IReadOnlyList<string> Endpoints(string endpoints) =>
        endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static EtcdClient Connect(string endpoint, string? caFile, string? certFile, string? keyFile)
    {
        var handler = new SocketsHttpHandler();
        if (certFile is not null && keyFile is not null)
        {
            handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(certFile, keyFile)];
        }

        if (caFile is not null)
        {
            var trusted = new X509Certificate2Collection();
            trusted.ImportFromPemFile(caFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                certificate is not null && ValidatesAgainst(new X509Certificate2(certificate), trusted, errors);
        }

        var channel = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        return new EtcdClient(channel.CreateCallInvoker());
    }

    private static bool ValidatesAgainst(X509Certificate2 certificate, X509Certificate2Collection trusted, SslPolicyErrors errors)
    {
        if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
