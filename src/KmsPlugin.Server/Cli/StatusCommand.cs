using System.CommandLine;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Grpc;
using KmsPlugin.Server.Hosting;

namespace KmsPlugin.Server.Cli;

/// <summary>
/// What kube-apiserver's v1 health check does: Version, then Encrypt("ping") and Decrypt of the
/// result. Exit code 0 only when every step answers as it should.
/// </summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var socket = CommonOptions.Socket();
        var timeout = new Option<string>("--timeout")
        {
            Description = "Deadline for each call, as kube-apiserver's `timeout` (default 3s)",
            DefaultValueFactory = _ => "3s",
        };
        var command = new Command("status", "Check a running plugin over its socket: Version, then an Encrypt/Decrypt round trip of `ping`") { socket, timeout };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (!DurationText.TryParse(parse.GetValue(timeout)!, out var deadline) || deadline <= TimeSpan.Zero)
            {
                await error.WriteLineAsync("--timeout must be a positive duration such as 3s");
                return 2;
            }

            return await CheckAsync(parse.GetValue(socket)!, deadline, output, error, cancellationToken);
        });
        return command;
    }

    public static async Task<int> CheckAsync(string socketPath, TimeSpan timeout, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var channel = UnixSocketChannel.Create(socketPath);
        var client = new KeyManagementService.KeyManagementServiceClient(channel);
        CallOptions Call() => new(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);
        var step = "Version";
        try
        {
            var version = await client.VersionAsync(new VersionRequest { Version = KeyManagementServiceV1.ApiVersion }, Call());
            await output.WriteLineAsync($"v1beta1 Version: version={version.Version} runtime={version.RuntimeName} {version.RuntimeVersion}");
            if (version.Version != KeyManagementServiceV1.ApiVersion)
            {
                await error.WriteLineAsync($"unhealthy: version \"{version.Version}\" is not v1beta1; kube-apiserver would refuse it");
                return 1;
            }

            step = "Encrypt";
            var ping = "ping"u8.ToArray();
            var encrypted = await client.EncryptAsync(new EncryptRequest { Version = KeyManagementServiceV1.ApiVersion, Plain = ByteString.CopyFrom(ping) }, Call());
            step = "Decrypt";
            var decrypted = await client.DecryptAsync(new DecryptRequest { Version = KeyManagementServiceV1.ApiVersion, Cipher = encrypted.Cipher }, Call());
            if (!CryptographicOperations.FixedTimeEquals(decrypted.Plain.Span, ping))
            {
                await error.WriteLineAsync("unhealthy: Decrypt did not return what was encrypted");
                return 1;
            }

            await output.WriteLineAsync($"v1beta1 Encrypt/Decrypt of \"ping\": ok ({encrypted.Cipher.Length}-byte ciphertext)");
            await output.WriteLineAsync("healthy");
            return 0;
        }
        catch (RpcException ex)
        {
            await error.WriteLineAsync($"unhealthy: {step} failed: {ex.StatusCode}: {ex.Status.Detail}");
            return 1;
        }
    }
}
