using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.LoadGen.Host;
using KmsPlugin.LoadGen.Load;
using KmsPlugin.LoadGen.Transport;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.LoadGen.ColdStart;

/// <summary>
/// kube-apiserver's start-up: N distinct 32-byte DEKs were encrypted while it ran (encrypt phase);
/// after a restart every one of them is decrypted with a fixed number of callers (decrypt phase).
/// Restarting the server between the phases is the caller's job (scripts/measure-performance.sh).
/// </summary>
internal sealed class ColdStartRunner(string socket, string target, AuthorityMode authority, TimeSpan timeout)
{
    public async Task<ColdStartResult> EncryptAsync(string api, int count, int concurrency, string file)
    {
        using var channel = KmsChannel.Create(socket, authority);
        var invoker = channel.CreateCallInvoker();
        await ProbeAsync(api, invoker);
        var keys = SyntheticKeys.CreateRandom();
        var stored = new StoredCiphertext[count];
        var v1 = new V1.KeyManagementService.KeyManagementServiceClient(invoker);
        var v2 = new V2.KeyManagementService.KeyManagementServiceClient(invoker);
        var outcome = await CallBatch.RunAsync(count, concurrency, async i =>
        {
            var plain = ByteString.CopyFrom(keys.Key(i));
            if (api == "v1")
            {
                var response = await v1.EncryptAsync(new V1.EncryptRequest { Version = V1Calls.ApiVersion, Plain = plain }, Options());
                stored[i] = new StoredCiphertext(response.Cipher, "", new Dictionary<string, ByteString>());
            }
            else
            {
                var response = await v2.EncryptAsync(new V2.EncryptRequest { Plaintext = plain, Uid = Guid.NewGuid().ToString() }, Options());
                stored[i] = new StoredCiphertext(response.Ciphertext, response.KeyId, response.Annotations);
            }

            return true;
        }, "Encrypt");
        if (outcome.Errors == 0)
        {
            CiphertextFile.Write(file, api, keys, stored);
        }

        return Result(api, "encrypt", count, concurrency, outcome);
    }

    public async Task<ColdStartResult> DecryptAsync(int concurrency, string file)
    {
        var (api, keys, stored) = CiphertextFile.Read(file);
        using var channel = KmsChannel.Create(socket, authority);
        var invoker = channel.CreateCallInvoker();
        // kube-apiserver checks Version/Status before it reads; that call also opens the connection.
        await ProbeAsync(api, invoker);
        var v1 = new V1.KeyManagementService.KeyManagementServiceClient(invoker);
        var v2 = new V2.KeyManagementService.KeyManagementServiceClient(invoker);
        var outcome = await CallBatch.RunAsync(stored.Length, concurrency, async i =>
        {
            var item = stored[i];
            ByteString plain;
            if (api == "v1")
            {
                plain = (await v1.DecryptAsync(new V1.DecryptRequest { Version = V1Calls.ApiVersion, Cipher = item.Ciphertext }, Options())).Plain;
            }
            else
            {
                var request = new V2.DecryptRequest { Ciphertext = item.Ciphertext, KeyId = item.KeyId, Uid = Guid.NewGuid().ToString() };
                request.Annotations.Add(item.Annotations);
                plain = (await v2.DecryptAsync(request, Options())).Plaintext;
            }

            return plain.Span.SequenceEqual(keys.Key(i));
        }, "Decrypt");
        return Result(api, "decrypt", stored.Length, concurrency, outcome);
    }

    private async Task ProbeAsync(string api, CallInvoker invoker)
    {
        if (api == "v1")
        {
            await V1Calls.CheckVersionAsync(invoker, LoadRunner.SetupTimeout, CancellationToken.None);
        }
        else
        {
            await V2Calls.CheckStatusAsync(invoker, LoadRunner.SetupTimeout, CancellationToken.None);
        }
    }

    private CallOptions Options() => new(deadline: DateTime.UtcNow + timeout);

    private ColdStartResult Result(string api, string phase, int count, int concurrency, CallBatch.Outcome outcome)
    {
        int pid = SocketPeer.ProcessId(socket);
        var l = outcome.Latencies;
        return new ColdStartResult(
            target, api, phase, count, concurrency, Math.Round(outcome.Seconds, 3), Math.Round(l.Count / outcome.Seconds, 1),
            Units.Milliseconds(l.PercentileNanoseconds(0.50)), Units.Milliseconds(l.PercentileNanoseconds(0.99)), Units.Milliseconds(l.MaxNanoseconds),
            outcome.Errors, outcome.FirstError, pid, Units.Mebibytes(ProcessStats.Memory(pid).Rss));
    }
}
