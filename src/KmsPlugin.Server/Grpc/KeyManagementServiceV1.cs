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

    /// <summary>
    /// kube-apiserver encrypts 32-byte keys (and `ping`). A cap well under the request limit
    /// keeps every ciphertext this plugin issues small enough to be sent back for Decrypt.
    /// </summary>
    public const int MaxPlaintextLength = 4096;

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
        if (plain.Length > MaxPlaintextLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"plaintext of {plain.Length} bytes is larger than {MaxPlaintextLength}: kube-apiserver sends 32-byte keys"));
        }

        // At most 4 KiB plus a header of a few hundred bytes: always within kube-apiserver's uint16 length.
        var (cipher, _) = await _encryptor.EncryptAsync(plain, context.CancellationToken).ConfigureAwait(false);
        return new EncryptResponse { Cipher = UnsafeByteOperations.UnsafeWrap(cipher) };
    }

    public override async Task<DecryptResponse> Decrypt(DecryptRequest request, ServerCallContext context)
    {
        var plain = await _encryptor.DecryptAsync(request.Cipher.Memory, context.CancellationToken).ConfigureAwait(false);
        return new DecryptResponse { Plain = UnsafeByteOperations.UnsafeWrap(plain) };
    }
}
