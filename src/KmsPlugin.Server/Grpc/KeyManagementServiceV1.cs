using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Protocol.V1Beta1;

namespace KmsPlugin.Server.Grpc;

/// <summary>KMS API v1beta1: a thin adapter over the envelope engine, no crypto of its own.</summary>
[BindServiceMethod(typeof(KmsServiceBinder), nameof(KmsServiceBinder.BindV1))]
internal sealed class KeyManagementServiceV1 : KeyManagementService.KeyManagementServiceBase
{
    public const string ApiVersion = "v1beta1";

    /// <summary>kube-apiserver stores the v1 ciphertext behind a uint16 length.</summary>
    public const int MaxCiphertextLength = ushort.MaxValue;

    private readonly EnvelopeEncryptor _encryptor;

    public KeyManagementServiceV1(EnvelopeEncryptor encryptor)
    {
        _encryptor = encryptor;
    }

    public override Task<VersionResponse> Version(VersionRequest request, ServerCallContext context) =>
        Task.FromResult(new VersionResponse
        {
            Version = ApiVersion,
            RuntimeName = ProductInfo.RuntimeName,
            RuntimeVersion = ProductInfo.Version,
        });

    public override async Task<EncryptResponse> Encrypt(EncryptRequest request, ServerCallContext context)
    {
        var plain = request.Plain.Memory;
        if (plain.Length > MaxCiphertextLength)
        {
            throw TooLarge(plain.Length);
        }

        var (cipher, _) = await _encryptor.EncryptAsync(plain, context.CancellationToken).ConfigureAwait(false);
        if (cipher.Length > MaxCiphertextLength)
        {
            throw TooLarge(plain.Length);
        }

        return new EncryptResponse { Cipher = UnsafeByteOperations.UnsafeWrap(cipher) };
    }

    private static RpcException TooLarge(int plainLength) =>
        new(new Status(StatusCode.InvalidArgument, $"plaintext of {plainLength} bytes does not fit a KMS v1 ciphertext (at most {MaxCiphertextLength} bytes)"));

    public override async Task<DecryptResponse> Decrypt(DecryptRequest request, ServerCallContext context)
    {
        var plain = await _encryptor.DecryptAsync(request.Cipher.Memory, context.CancellationToken).ConfigureAwait(false);
        return new DecryptResponse { Plain = UnsafeByteOperations.UnsafeWrap(plain) };
    }
}
