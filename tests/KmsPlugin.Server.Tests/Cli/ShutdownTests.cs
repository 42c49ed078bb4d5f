using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Cli;

public sealed class ShutdownTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Sigterm_under_load_exits_cleanly_every_answered_call_is_exact_and_the_socket_is_gone()
    {
        var socket = _dir.File("kms.sock");
        var plugin = await PluginProcess.StartAsync(socket, null, "--dev");
        using var stop = new CancellationTokenSource();
        var answered = 0;
        var wrong = 0;
        var unexpected = new List<StatusCode>();

        var callers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var plain = RandomNumberGenerator.GetBytes(32);
                    var encrypted = await plugin.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plain) }, deadline: DateTime.UtcNow.AddSeconds(3));
                    var decrypted = await plugin.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = encrypted.Cipher }, deadline: DateTime.UtcNow.AddSeconds(3));
                    Interlocked.Increment(ref answered);
                    if (!decrypted.Plain.Span.SequenceEqual(plain))
                    {
                        Interlocked.Increment(ref wrong);
                    }
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled)
                {
                    // Refused because the plugin is going away: what kube-apiserver retries.
                }
                catch (RpcException ex)
                {
                    lock (unexpected)
                    {
                        unexpected.Add(ex.StatusCode);
                    }
                }
            }
        })).ToArray();

        while (Volatile.Read(ref answered) < 200)
        {
            await Task.Delay(20);
        }

        var exitCode = await plugin.TerminateAsync();
        stop.Cancel();
        await Task.WhenAll(callers);
        await plugin.DisposeAsync();

        Assert.Equal(0, exitCode);
        Assert.Equal(0, wrong);
        Assert.Empty(unexpected);
        Assert.False(PluginProcess.Connectable(socket));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path, "kms.sock"));
        Assert.Contains("stopped; socket", plugin.Log);
    }
}
