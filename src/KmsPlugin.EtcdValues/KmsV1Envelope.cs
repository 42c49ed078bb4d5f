using System.Buffers.Binary;

namespace KmsPlugin.EtcdValues;

/// <summary>
/// KMS v1 etcd values, as kubernetes/apiserver <c>pkg/storage/value/encrypt/envelope/envelope.go</c>
/// writes and reads them:
/// <code>
/// 0         p       p+2          p+2+n                      end
/// | prefix  | n (BE) | encDEK (n) | payload                  |
///  "k8s:enc:kms:v1:" name ":"     gcm-raw (≥ 1.25) or IV|CBC (≤ 1.24)
/// </code>
/// encDEK is the plugin's Encrypt response for kube-apiserver's DEK; the payload is sealed under
/// that DEK with the full etcd key as AAD.
/// </summary>
internal static class KmsV1Envelope
{
    public static KmsV1Value Parse(ReadOnlyMemory<byte> etcdValue)
    {
        var classified = EtcdValuePrefix.Classify(etcdValue);
        if (classified.Kind != EtcdValueKind.KmsV1)
        {
            throw EtcdValueException.Malformed($"not a KMS v1 value ({classified.Kind})");
        }

        var rest = classified.Rest;
        if (rest.Length < 2)
        {
            throw EtcdValueException.Malformed("truncated before the encrypted DEK length");
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(rest.Span);
        if (length == 0)
        {
            throw EtcdValueException.Malformed("encrypted DEK is empty");
        }

        if (length > rest.Length - 2)
        {
            throw EtcdValueException.Malformed($"encrypted DEK length {length} runs past the end of the value ({rest.Length - 2} bytes left)");
        }

        return new KmsV1Value(classified.Name!, rest.Slice(2, length), rest[(2 + length)..]);
    }

    /// <summary>
    /// Opens the payload as kube-apiserver ≥ 1.25 does: AES-GCM first, then, if that fails for any
    /// reason, legacy AES-CBC. Throws <see cref="EtcdValueException"/> when neither opens.
    /// </summary>
    public static KmsV1Plaintext Open(KmsV1Value value, ReadOnlySpan<byte> dek, ReadOnlySpan<byte> etcdKey)
    {
        AesGcmData.RequireAesKey(dek);
        EtcdValueException gcmFailure;
        try
        {
            return new KmsV1Plaintext(AesGcmData.Open(dek, value.Payload.Span, etcdKey), KmsV1PayloadCipher.AesGcm);
        }
        catch (EtcdValueException e)
        {
            gcmFailure = e;
        }

        try
        {
            return new KmsV1Plaintext(AesCbcData.Open(dek, value.Payload.Span), KmsV1PayloadCipher.AesCbc);
        }
        catch (EtcdValueException)
        {
            throw EtcdValueException.AuthenticationFailed(
                $"payload opens neither as AES-GCM ({gcmFailure.Message}) nor as legacy AES-CBC", gcmFailure);
        }
    }

    /// <summary>
    /// Writes a value as kube-apiserver ≥ 1.25 does: <paramref name="encryptedDek"/> is the plugin's
    /// Encrypt response for <paramref name="dek"/>; the payload is AES-GCM with a random nonce.
    /// </summary>
    public static byte[] Seal(string providerName, ReadOnlySpan<byte> encryptedDek, ReadOnlySpan<byte> dek, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> etcdKey)
    {
        Span<byte> nonce = stackalloc byte[AesGcmData.NonceSize];
        System.Security.Cryptography.RandomNumberGenerator.Fill(nonce);
        return Seal(providerName, encryptedDek, dek, nonce, plaintext, etcdKey);
    }

    /// <summary>Seals with a caller-chosen nonce: for known-answer tests only.</summary>
    internal static byte[] Seal(string providerName, ReadOnlySpan<byte> encryptedDek, ReadOnlySpan<byte> dek, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> etcdKey) =>
        Assemble(providerName, encryptedDek, AesGcmData.Seal(dek, nonce, plaintext, etcdKey));

    /// <summary>
    /// Writes a value as kube-apiserver ≤ 1.24 did (AES-CBC payload, random IV): for tests of the
    /// legacy read path and for migration rehearsals. Nothing current writes this.
    /// </summary>
    public static byte[] SealLegacyCbc(string providerName, ReadOnlySpan<byte> encryptedDek, ReadOnlySpan<byte> dek, ReadOnlySpan<byte> plaintext) =>
        Assemble(providerName, encryptedDek, AesCbcData.Seal(dek, plaintext));

    private static byte[] Assemble(string providerName, ReadOnlySpan<byte> encryptedDek, ReadOnlySpan<byte> payload)
    {
        if (encryptedDek.Length is 0 or > ushort.MaxValue)
        {
            throw new ArgumentException($"encrypted DEK must be 1..{ushort.MaxValue} bytes", nameof(encryptedDek));
        }

        var prefix = EtcdValuePrefix.KmsV1(providerName);
        var output = new byte[prefix.Length + 2 + encryptedDek.Length + payload.Length];
        prefix.CopyTo(output, 0);
        BinaryPrimitives.WriteUInt16BigEndian(output.AsSpan(prefix.Length), (ushort)encryptedDek.Length);
        encryptedDek.CopyTo(output.AsSpan(prefix.Length + 2));
        payload.CopyTo(output.AsSpan(prefix.Length + 2 + encryptedDek.Length));
        return output;
    }
}
