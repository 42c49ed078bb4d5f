using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Protocol.V2;

namespace KmsPlugin.LoadGen.Load;

/// <summary>
/// KMS v2 calls as kube-apiserver makes them: a uid in each request, Decrypt with the key_id and
/// annotations Encrypt returned, and Encrypt's key_id checked against Status's.
/// </summary>
internal sealed class V2Calls : IKmsCalls
{
    private readonly KeyManagementService.KeyManagementServiceClient _client;
    private readonly TimeSpan _timeout;
    private readonly string _keyId;
    private readonly EncryptRequest[] _encrypts;
    private readonly DecryptRequest[] _decrypts;

    public V2Calls(CallInvoker invoker, string keyId, int slots, int size, TimeSpan timeout)
    {
        _client = new KeyManagementService.KeyManagementServiceClient(invoker);
        _keyId = keyId;
        _timeout = timeout;
        _encrypts = new EncryptRequest[slots];
        _decrypts = new DecryptRequest[slots];
        for (int i = 0; i < slots; i++)
        {
            _encrypts[i] = new EncryptRequest { Plaintext = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(size)), Uid = Guid.NewGuid().ToString() };
        }
    }

    /// <summary>Status as kube-apiserver requires it before any use; returns the key_id.</summary>
    public static async Task<string> CheckStatusAsync(CallInvoker invoker, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var client = new KeyManagementService.KeyManagementServiceClient(invoker);
        var status = await client.StatusAsync(new StatusRequest(), new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken));
        if (status.Healthz != "ok" || status.Version is not ("v2" or "v2beta1") || string.IsNullOrEmpty(status.KeyId))
        {
            throw new InvalidOperationException($"Status answered healthz=\"{status.Healthz}\" version=\"{status.Version}\": kube-apiserver would not use this server");
        }

        return status.KeyId;
    }

    public async Task PrepareAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        for (int i = 0; i < _encrypts.Length; i++)
        {
            var response = await _client.EncryptAsync(_encrypts[i], new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken));
            var decrypt = new DecryptRequest { Ciphertext = response.Ciphertext, KeyId = response.KeyId, Uid = Guid.NewGuid().ToString() };
            decrypt.Annotations.Add(response.Annotations);
            _decrypts[i] = decrypt;
        }
    }

    public async Task<bool> EncryptAsync(int slot, CancellationToken cancellationToken)
    {
        var response = await _client.EncryptAsync(_encrypts[slot], Options(cancellationToken));
        return response.Ciphertext.Length > 0 && response.KeyId == _keyId;
    }

    public async Task<bool> DecryptAsync(int slot, CancellationToken cancellationToken)
    {
        var response = await _client.DecryptAsync(_decrypts[slot], Options(cancellationToken));
        return response.Plaintext.Span.SequenceEqual(_encrypts[slot].Plaintext.Span);
    }

    private CallOptions Options(CancellationToken cancellationToken) => new(deadline: DateTime.UtcNow + _timeout, cancellationToken: cancellationToken);
}
