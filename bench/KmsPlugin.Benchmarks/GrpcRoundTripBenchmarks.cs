using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Grpc.Net.Client;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Server.Hosting;
using Microsoft.Extensions.Logging;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Benchmarks;

/// <summary>
/// One gRPC call over the unix socket into the real server (Kestrel, the <c>:authority</c>
/// normalizer, interceptors, the envelope engine), from a Grpc.Net.Client in the same process.
/// The in-process envelope Encrypt of the same 32 bytes is the baseline, so the ratio is what the
/// transport and gRPC add. Same-process client and server share the two cores, as kube-apiserver and
/// the plugin do on a control-plane node.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class GrpcRoundTripBenchmarks
{
    private readonly ByteString _plaintext = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32));
    private KeystoreRootKeyProvider _provider = null!;
    private PluginHost _host = null!;
    private GrpcChannel _channel = null!;
    private string _directory = "";
    private V1.KeyManagementService.KeyManagementServiceClient _v1 = null!;
    private V2.KeyManagementService.KeyManagementServiceClient _v2 = null!;
    private ByteString _v1Cipher = ByteString.Empty;
    private V2.DecryptRequest _v2Decrypt = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("kms-bench.").FullName;
        _provider = KeystoreRootKeyProvider.CreateDevelopment();
        var options = new PluginHostOptions { SocketPath = Path.Combine(_directory, "run", "kms.sock"), LogLevel = LogLevel.Warning };
        _host = PluginHost.StartAsync(options, _provider, logging => logging.ClearProviders()).GetAwaiter().GetResult();
        _channel = UnixSocketClient.Create(_host.SocketPath);
        _v1 = new V1.KeyManagementService.KeyManagementServiceClient(_channel);
        _v2 = new V2.KeyManagementService.KeyManagementServiceClient(_channel);

        _v1Cipher = V1Encrypt().Cipher;
        var sealedV2 = V2Encrypt();
        _v2Decrypt = new V2.DecryptRequest { Ciphertext = sealedV2.Ciphertext, KeyId = sealedV2.KeyId, Uid = "bench" };
        if (!V1Decrypt().Plain.Equals(_plaintext) || !V2Decrypt().Plaintext.Equals(_plaintext))
        {
            throw new InvalidOperationException("round trip did not return the plaintext");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _channel.Dispose();
        _host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _provider.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public byte[] InProcessEnvelopeEncrypt() =>
        _host.Encryptor.EncryptAsync(_plaintext.Memory, default).AsTask().GetAwaiter().GetResult().Ciphertext;

    [Benchmark]
    public V1.EncryptResponse V1Encrypt() => _v1.Encrypt(new V1.EncryptRequest { Version = "v1beta1", Plain = _plaintext });

    [Benchmark]
    public V1.DecryptResponse V1Decrypt() => _v1.Decrypt(new V1.DecryptRequest { Version = "v1beta1", Cipher = _v1Cipher });

    [Benchmark]
    public V2.EncryptResponse V2Encrypt() => _v2.Encrypt(new V2.EncryptRequest { Plaintext = _plaintext, Uid = "bench" });

    [Benchmark]
    public V2.DecryptResponse V2Decrypt() => _v2.Decrypt(_v2Decrypt);
}
