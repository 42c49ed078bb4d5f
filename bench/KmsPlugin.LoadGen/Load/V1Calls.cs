using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Protocol.V1Beta1;

namespace KmsPlugin.LoadGen.Load;

/// <summary>KMS v1 calls as kube-apiserver makes them: version "v1beta1" in every request, a deadline on each.</summary>
internal sealed class V1Calls : IKmsCalls
{
    public const string ApiVersion = "v1beta1";

    private readonly KeyManagementService.KeyManagementServiceClient _client;
    private readonly TimeSpan _timeout;
    private readonly EncryptRequest[] _encrypts;
    private readonly DecryptRequest[] _decrypts;

    public V1Calls(CallInvoker invoker, int slots, int size, TimeSpan timeout)
    {
        _client = new KeyManagementService.KeyManagementServiceClient(invoker);
        _timeout = timeout;
        _encrypts = new EncryptRequest[slots];
        _decrypts = new DecryptRequest[slots];
        for (int i = 0; i < slots; i++)
        {
            _encrypts[i] = new EncryptRequest { Version = ApiVersion, Plain = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(size)) };
        }
    }

    public static async Task CheckVersionAsync(CallInvoker invoker, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var client = new KeyManagementService.KeyManagementServiceClient(invoker);
        var response = await client.VersionAsync(new VersionRequest { Version = ApiVersion }, new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken));
        if (response.Version != ApiVersion)
        {
            throw new InvalidOperationException($"Version answered \"{response.Version}\", not {ApiVersion}: kube-apiserver would refuse this server");
        }
    }

    public async Task PrepareAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        for (int i = 0; i < _encrypts.Length; i++)
        {
            var response = await _client.EncryptAsync(_encrypts[i], new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken));
            _decrypts[i] = new DecryptRequest { Version = ApiVersion, Cipher = response.Cipher };
        }
    }

    public async Task<bool> EncryptAsync(int slot, CancellationToken cancellationToken)
    {
        var response = await _client.EncryptAsync(_encrypts[slot], Options(cancellationToken));
        return response.Cipher.Length > 0;
    }

    public async Task<bool> DecryptAsync(int slot, CancellationToken cancellationToken)
    {
        var response = await _client.DecryptAsync(_decrypts[slot], Options(cancellationToken));
        return response.Plain.Span.SequenceEqual(_encrypts[slot].Plain.Span);
    }

    private CallOptions Options(CancellationToken cancellationToken) => new(deadline: DateTime.UtcNow + _timeout, cancellationToken: cancellationToken);
}
