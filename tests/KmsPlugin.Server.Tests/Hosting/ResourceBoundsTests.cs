using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Grpc;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.Tests.AuthorityNormalizer;
using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;

namespace KmsPlugin.Server.Tests.Hosting;

/// <summary>Issue 8's resource bounds: small requests only, and stalled clients cannot crowd out kube-apiserver.</summary>
public sealed class ResourceBoundsTests
{
    private const int StalledConnections = 1000;
    private static readonly byte[] Preface = Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

    private readonly ITestOutputHelper _output;

    public ResourceBoundsTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task Oversized_requests_are_refused_before_they_are_read_and_the_largest_legitimate_one_passes()
    {
        await using var plugin = await RunningPlugin.StartAsync(TestKeys.Development());
        var encrypted = await plugin.V2.EncryptAsync(new Protocol.V2.EncryptRequest { Plaintext = ByteString.CopyFrom(new byte[32]), Uid = "u" });

        // kube-apiserver's own limits: 32 KiB of annotations (keys and values), every key a FQDN.
        var largest = new Protocol.V2.DecryptRequest { Ciphertext = encrypted.Ciphertext, KeyId = encrypted.KeyId, Uid = "largest" };
        for (var i = 0; i < 8; i++)
        {
            var key = $"a{i}.example.com";
            largest.Annotations.Add(key, ByteString.CopyFrom(new byte[4096 - key.Length]));
        }

        Assert.Equal(new byte[32], (await plugin.V2.DecryptAsync(largest)).Plaintext.ToByteArray());

        var oversized = largest.Clone();
        oversized.Annotations.Add("z.example.com", ByteString.CopyFrom(new byte[PluginHostOptions.DefaultMaxRequestBytes]));
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await plugin.V2.DecryptAsync(oversized));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);

        var megabyte = await Assert.ThrowsAsync<RpcException>(async () => await plugin.V1.EncryptAsync(
            new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(new byte[1024 * 1024]) }));
        Assert.Equal(StatusCode.ResourceExhausted, megabyte.StatusCode);

        var tooLong = await Assert.ThrowsAsync<RpcException>(async () => await plugin.V1.EncryptAsync(
            new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(new byte[KeyManagementServiceV1.MaxPlaintextLength + 1]) }));
        Assert.Equal(StatusCode.InvalidArgument, tooLong.StatusCode);

        // The largest v1 plaintext accepted comes back through Decrypt: its ciphertext is within the limit.
        var plain = RandomNumberGenerator.GetBytes(KeyManagementServiceV1.MaxPlaintextLength);
        var sealedValue = await plugin.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plain) });
        Assert.Equal(plain, (await plugin.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = sealedValue.Cipher })).Plain.ToByteArray());
        Assert.Equal("ok", (await plugin.V2.StatusAsync(new Protocol.V2.StatusRequest())).Healthz);
    }

    [Fact]
    public async Task A_thousand_stalled_connections_do_not_starve_a_normal_client_and_are_closed_by_the_server()
    {
        // Shorter than the defaults (5 s, 60 s) only to keep the test short.
        await using var plugin = await RunningPlugin.StartAsync(TestKeys.Development(), o => o with
        {
            RequestHeadersTimeout = TimeSpan.FromSeconds(2),
            IdleConnectionTimeout = TimeSpan.FromSeconds(4),
        });
        var stalled = new List<Socket>();
        try
        {
            for (var i = 0; i < StalledConnections; i++)
            {
                var socket = await ConnectAsync(plugin.SocketPath);
                stalled.Add(socket);
                switch (i % 3)
                {
                    case 0:
                        break; // connects and says nothing
                    case 1:
                        await socket.SendAsync(Preface.AsMemory(0, 10)); // half a preface
                        break;
                    default:
                        // A full preface, then a HEADERS frame that announces 200 bytes and sends 10.
                        await socket.SendAsync(Preface);
                        await socket.SendAsync(RawHttp2Client.Frame(0x4, 0x0, 0, []));
                        await socket.SendAsync(RawHttp2Client.Frame(0x1, 0x4, 1, new byte[200]).AsMemory(0, 9 + 10));
                        break;
                }
            }

            var watch = Stopwatch.StartNew();
            using var channel = UnixSocketClient.Create(plugin.SocketPath);
            var client = new KeyManagementService.KeyManagementServiceClient(channel);
            for (var i = 0; i < 20; i++)
            {
                var plain = RandomNumberGenerator.GetBytes(32);
                var deadline = DateTime.UtcNow.AddSeconds(10);
                var cipher = await client.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plain) }, deadline: deadline);
                var back = await client.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = cipher.Cipher }, deadline: deadline);
                Assert.Equal(plain, back.Plain.ToByteArray());
            }

            _output.WriteLine($"20 round trips beside {StalledConnections} stalled connections in {watch.Elapsed.TotalMilliseconds:0} ms");

            // Each stalled connection ends with the server closing it (end of stream or reset).
            var closing = stalled.Select(DrainUntilClosedAsync).ToArray();
            var all = Task.WhenAll(closing);
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(60)));
            var closed = closing.Count(t => t.IsCompletedSuccessfully);
            _output.WriteLine($"{closed} of {StalledConnections} stalled connections closed by the server after {watch.Elapsed.TotalSeconds:0.0} s");
            Assert.Equal(StalledConnections, closed);
        }
        finally
        {
            foreach (var socket in stalled)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task The_DEK_cache_stays_at_its_cap_when_every_call_brings_a_new_data_key()
    {
        const int capacity = 500;
        const int values = 3 * capacity;
        using var dir = new TempDirectory();
        var healthPort = LoopbackPorts.Free();

        // Worst case for the cache: every Encrypt makes a data key, every Decrypt of an old value misses.
        await using var plugin = await PluginProcess.StartAsync(dir.File("kms.sock"), null,
            "--dev", "--dek-max-uses", "1", "--dek-cache-size", capacity.ToString(CultureInfo.InvariantCulture), "--health-address", $"127.0.0.1:{healthPort}");
        var sealedValues = new (byte[] Plain, ByteString Cipher)[values];
        await Parallel.ForAsync(0, values, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var plain = RandomNumberGenerator.GetBytes(32);
            var response = await plugin.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plain) }, deadline: DateTime.UtcNow.AddSeconds(30));
            sealedValues[i] = (plain, response.Cipher);
        });
        var wrong = 0;
        await Parallel.ForAsync(0, values, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var response = await plugin.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = sealedValues[i].Cipher }, deadline: DateTime.UtcNow.AddSeconds(30));
            if (!response.Plain.Span.SequenceEqual(sealedValues[i].Plain))
            {
                Interlocked.Increment(ref wrong);
            }
        });

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort}") };
        var metrics = await http.GetStringAsync("/metrics");
        var rss = File.ReadAllLines($"/proc/{plugin.Id}/status").Single(line => line.StartsWith("VmRSS:", StringComparison.Ordinal));
        _output.WriteLine($"after {values} new data keys through a cache of {capacity}: {rss.Replace("VmRSS:", "RSS", StringComparison.Ordinal).Trim()}");

        Assert.Equal(0, wrong);
        Assert.Equal(capacity, Metric(metrics, "kms_plugin_dek_cache_entries"));
        Assert.True(Metric(metrics, "kms_plugin_dek_cache_evictions_total") >= values - capacity);
        Assert.True(Metric(metrics, "kms_plugin_dek_cache_misses_total") >= values - capacity);
    }

    private static double Metric(string metrics, string name) =>
        double.Parse(metrics.Split('\n').Single(line => line.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..], CultureInfo.InvariantCulture);

    /// <summary>Connects, waiting while the listen backlog is full (the server accepts as fast as it can).</summary>
    private static async Task<Socket> ConnectAsync(string path)
    {
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
                return socket;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.WouldBlock || ex.SocketErrorCode == SocketError.TryAgain)
            {
                socket.Dispose();
                await Task.Delay(10);
            }
        }
    }

    private static async Task DrainUntilClosedAsync(Socket socket)
    {
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // Reset by the server: closed as well.
        }
    }
}
