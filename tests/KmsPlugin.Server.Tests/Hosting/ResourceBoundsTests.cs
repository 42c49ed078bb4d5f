using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Xunit.Abstractions;
using Grpc.Core;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Grpc;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.Tests.Http2;
using KmsPlugin.Server.Tests.Support;

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
            using var channel = UnixSocketChannel.Create(plugin.SocketPath);
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
