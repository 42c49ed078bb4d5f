using System.CommandLine;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Configuration;
using KmsPlugin.Server.Grpc;
using KmsPlugin.Server.Hosting;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Cli;

/// <summary>
/// What kube-apiserver's health checks do. v1: Version, then Encrypt("ping") and Decrypt of the
/// result. v2: Status (healthz "ok", version "v2", a valid key_id), then an Encrypt whose key_id
/// must equal Status's, and its Decrypt. Then the root keys with their key check values (the plugin's
/// own RootKeyService), so the output of two nodes can be compared. Exit code 0 only when every step
/// answers as it should.
/// </summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var socket = new VerbSettings([ServeSettings.Socket]);
        var timeout = new Option<string>("--timeout")
        {
            Description = "Deadline for each call, as kube-apiserver's `timeout` (default 3s)",
            DefaultValueFactory = _ => "3s",
        };
        var api = new Option<string>("--api")
        {
            Description = "Which KMS API to check: v1, v2 or both (default both)",
            DefaultValueFactory = _ => "both",
        };
        api.AcceptOnlyFromAmong("v1", "v2", "both");
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON document (healthy, provider, root keys with their key check values); problems still go to stderr",
        };
        var compare = new Option<string[]>("--compare")
        {
            Description = "Instead of checking the socket, read these plugins' metrics URLs (http://cp-1:8787 …) and print their root keys side by side; exit 1 when they differ",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("status", "Check a running plugin over its socket the way kube-apiserver's health checks do, and list its root keys") { timeout, api, json, compare };
        socket.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var asJson = parse.GetValue(json);
            var output = asJson ? TextWriter.Null : parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (!DurationText.TryParse(parse.GetValue(timeout)!, out var deadline) || deadline <= TimeSpan.Zero)
            {
                await error.WriteLineAsync("--timeout must be a positive duration such as 3s");
                return 2;
            }

            if (parse.GetValue(compare) is { Length: > 0 } urls)
            {
                return asJson
                    ? await RefuseAsync(error, "--json does not combine with --compare")
                    : await StatusComparison.RunAsync(urls, deadline, output, error, cancellationToken);
            }

            var which = parse.GetValue(api)!;
            var problems = new List<string>();
            var socketPath = socket.Resolve(parse, problems).Resolve(ServeSettings.Socket).Text ?? CommonOptions.DefaultSocket;
            if (problems.Count > 0)
            {
                return await RefuseAsync(error, string.Join("; ", problems));
            }

            using var channel = UnixSocketClient.Create(socketPath);
            var status = 0;
            if (which is "v1" or "both")
            {
                status |= await CheckV1Async(channel, deadline, output, error, cancellationToken);
            }

            if (which is "v2" or "both")
            {
                status |= await CheckV2Async(channel, deadline, output, error, cancellationToken);
            }

            var listing = await RootKeyReport.FetchAsync(channel, deadline, error, cancellationToken);
            if (listing is null)
            {
                status = 1;
            }
            else
            {
                await RootKeyReport.WriteTextAsync(output, listing);
            }

            if (asJson)
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(RootKeyReport.ToJson(status == 0, listing));
            }

            await output.WriteLineAsync(status == 0 ? "healthy" : "unhealthy");
            return status;
        });
        return command;
    }

    private static async Task<int> RefuseAsync(TextWriter error, string message)
    {
        await error.WriteLineAsync(message);
        return 2;
    }

    private static async Task<int> CheckV1Async(ChannelBase channel, TimeSpan timeout, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
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
            return 0;
        }
        catch (RpcException ex)
        {
            await error.WriteLineAsync($"unhealthy: v1beta1 {step} failed: {ex.StatusCode}: {ex.Status.Detail}");
            return 1;
        }
    }

    private static async Task<int> CheckV2Async(ChannelBase channel, TimeSpan timeout, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var client = new V2.KeyManagementService.KeyManagementServiceClient(channel);
        CallOptions Call() => new(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);
        var step = "Status";
        try
        {
            var status = await client.StatusAsync(new V2.StatusRequest(), Call());
            await output.WriteLineAsync($"v2 Status: version={status.Version} healthz={status.Healthz} key_id={status.KeyId}");
            var problems = new List<string>();
            if (status.Version != KeyManagementServiceV2.ApiVersion)
            {
                problems.Add($"version \"{status.Version}\" is not v2");
            }

            if (status.Healthz != "ok")
            {
                problems.Add($"healthz is \"{status.Healthz}\"");
            }

            if (status.KeyId.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(status.KeyId) > KeyManagementServiceV2.MaxKeyIdLength)
            {
                problems.Add("key_id is empty or longer than 1024 bytes");
            }

            step = "Encrypt";
            var plaintext = RandomNumberGenerator.GetBytes(32);
            var uid = Guid.NewGuid().ToString();
            var encrypted = await client.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFrom(plaintext), Uid = uid }, Call());
            if (encrypted.KeyId != status.KeyId)
            {
                problems.Add($"Encrypt returned key_id \"{encrypted.KeyId}\", Status said \"{status.KeyId}\"");
            }

            step = "Decrypt";
            var request = new V2.DecryptRequest { Ciphertext = encrypted.Ciphertext, KeyId = encrypted.KeyId, Uid = uid };
            request.Annotations.Add(encrypted.Annotations);
            var decrypted = await client.DecryptAsync(request, Call());
            if (!CryptographicOperations.FixedTimeEquals(decrypted.Plaintext.Span, plaintext))
            {
                problems.Add("Decrypt did not return what was encrypted");
            }

            foreach (var problem in problems)
            {
                await error.WriteLineAsync($"unhealthy: v2 {problem}");
            }

            if (problems.Count == 0)
            {
                await output.WriteLineAsync($"v2 Encrypt/Decrypt of a 32-byte key: ok ({encrypted.Ciphertext.Length}-byte ciphertext)");
            }

            return problems.Count == 0 ? 0 : 1;
        }
        catch (RpcException ex)
        {
            await error.WriteLineAsync($"unhealthy: v2 {step} failed: {ex.StatusCode}: {ex.Status.Detail}");
            return 1;
        }
    }
}
