using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Protocol.V2;
using KmsPlugin.Server.Hosting;

namespace KmsPlugin.Server.Grpc;

/// <summary>
/// KMS API v2 over the same envelope engine and key ring as v1, so ciphertexts are the same
/// format through both. No annotations: the ciphertext already names its root key. Decrypt
/// ignores well-formed annotations it does not know, so a later version may add some.
/// </summary>
[BindServiceMethod(typeof(KmsServiceBinder), nameof(KmsServiceBinder.BindV2))]
internal sealed class KeyManagementServiceV2 : KeyManagementService.KeyManagementServiceBase
{
    public const string ApiVersion = "v2";

    /// <summary>kube-apiserver refuses a v2 ciphertext longer than this.</summary>
    public const int MaxCiphertextLength = 1024;

    /// <summary>kube-apiserver refuses a key_id longer than this (in UTF-8 bytes).</summary>
    public const int MaxKeyIdLength = 1024;

    private readonly EnvelopeEncryptor _encryptor;
    private readonly RootKeyHealthProbe _health;

    public KeyManagementServiceV2(EnvelopeEncryptor encryptor, RootKeyHealthProbe health)
    {
        _encryptor = encryptor;
        _health = health;
    }

    /// <summary>
    /// Answered from memory: never a root-key call, never a wait for the token (kube-apiserver polls
    /// it on every /healthz). Before the token was first reached, key_id must still be non-empty.
    /// </summary>
    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var keyId = _encryptor.Provider.KnownPrimary?.KeyId ?? _health.Current.KeyId ?? "none";
        return Task.FromResult(new StatusResponse { Version = ApiVersion, Healthz = _health.Healthz, KeyId = keyId });
    }

    public override async Task<EncryptResponse> Encrypt(EncryptRequest request, ServerCallContext context)
    {
        var plaintext = request.Plaintext.Memory;
        if (plaintext.Length > MaxCiphertextLength)
        {
            throw TooLarge(plaintext.Length);
        }

        var sealedEnvelope = await _encryptor.EncryptAsync(plaintext, context.CancellationToken).ConfigureAwait(false);
        if (sealedEnvelope.Ciphertext.Length > MaxCiphertextLength)
        {
            throw TooLarge(plaintext.Length);
        }

        return new EncryptResponse
        {
            Ciphertext = UnsafeByteOperations.UnsafeWrap(sealedEnvelope.Ciphertext),
            KeyId = sealedEnvelope.RootKey.KeyId,
        };
    }

    public override async Task<DecryptResponse> Decrypt(DecryptRequest request, ServerCallContext context)
    {
        var ciphertext = request.Ciphertext.Memory;
        if (V2Annotations.Problem(request.Annotations) is { } annotationProblem)
        {
            throw new KmsException(KmsErrorKind.InvalidCiphertext, annotationProblem);
        }

        if (!PrimaryRootKey.TryParseKeyId(request.KeyId, out var rootKeyId, out var generation) ||
            _encryptor.Provider.NeverIssued(rootKeyId, generation))
        {
            throw new KmsException(KmsErrorKind.InvalidCiphertext, $"key_id \"{Printable(request.KeyId)}\" was not issued by kms-plugin");
        }

        var expected = new ExpectedRootKey(rootKeyId, request.KeyId);
        var plaintext = await _encryptor.DecryptAsync(ciphertext, expected, context.CancellationToken).ConfigureAwait(false);
        return new DecryptResponse { Plaintext = UnsafeByteOperations.UnsafeWrap(plaintext) };
    }

    private static RpcException TooLarge(int plaintextLength) =>
        new(new Status(StatusCode.InvalidArgument, $"plaintext of {plaintextLength} bytes does not fit a KMS v2 ciphertext (at most {MaxCiphertextLength} bytes)"));

    /// <summary>key_id comes from the caller: echo at most 80 printable characters of it.</summary>
    private static string Printable(string value) => ClientText.Printable(value);
}
