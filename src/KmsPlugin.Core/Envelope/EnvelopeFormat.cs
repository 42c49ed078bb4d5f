using System.Buffers.Binary;
using KmsPlugin.Core.Crypto;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.Core.Envelope;

/// <summary>
/// The plugin ciphertext. Self-describing, so any plugin instance that shares the root keys can
/// open it without state:
/// <code>
/// 0        1          2                2+n               4+n            4+n+w      16+n+w        end-16   end
/// | format | rootKeyIdLen | root key id (n B)   | wrappedLen (BE) | wrapped DEK  | nonce 12 | ciphertext  | tag 16 |
/// |&lt;-------- wrap context ---------&gt;|                                 |
/// |&lt;------------------------- header = payload AAD ------------------&gt;|
/// </code>
/// The wrap context binds the DEK to its format and root key; the payload AAD binds everything
/// before the nonce, so no header field can be swapped.
/// </summary>
internal static class EnvelopeFormat
{
    public const byte Version1 = 0x01;
    public const int NonceSize = AesGcmSealer.NonceSize;
    public const int TagSize = AesGcmSealer.TagSize;
    public const int MaxKeyIdLength = byte.MaxValue;
    public const int MaxWrappedKeyLength = ushort.MaxValue;

    /// <summary>Smallest well-formed envelope: one-byte id, one-byte wrapped key, empty payload.</summary>
    public const int MinimumLength = 1 + 1 + 1 + 2 + 1 + NonceSize + TagSize;

    public static int WrapContextLength(int keyIdLength) => 2 + keyIdLength;

    /// <summary>Writes the wrap context (format, id length, id) for <paramref name="keyId"/>.</summary>
    public static byte[] BuildWrapContext(string keyId)
    {
        var id = EncodeKeyId(keyId);
        var context = new byte[WrapContextLength(id.Length)];
        context[0] = Version1;
        context[1] = (byte)id.Length;
        id.CopyTo(context.AsSpan(2));
        return context;
    }

    /// <summary>Header = wrap context | wrapped length (BE) | wrapped DEK.</summary>
    public static byte[] BuildHeader(ReadOnlySpan<byte> wrapContext, ReadOnlySpan<byte> wrappedKey)
    {
        if (wrappedKey.Length is 0 or > MaxWrappedKeyLength)
        {
            throw new KmsException(KmsErrorKind.Internal, "wrapped data key has an unsupported length");
        }

        var header = new byte[wrapContext.Length + 2 + wrappedKey.Length];
        wrapContext.CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(wrapContext.Length), (ushort)wrappedKey.Length);
        wrappedKey.CopyTo(header.AsSpan(wrapContext.Length + 2));
        return header;
    }

    public static int SealedLength(int headerLength, int plaintextLength) =>
        headerLength + AesGcmSealer.Overhead + plaintextLength;

    /// <summary>
    /// Splits <paramref name="envelope"/> into its parts without copying. Every malformed input
    /// throws <see cref="KmsException"/> (<see cref="KmsErrorKind.InvalidCiphertext"/>).
    /// </summary>
    public static EnvelopeParts Parse(ReadOnlySpan<byte> envelope) => new(envelope, Measure(envelope));

    /// <summary>The one check of an envelope's header: every malformed input throws, as in <see cref="Parse"/>.</summary>
    public static EnvelopeLayout Measure(ReadOnlySpan<byte> envelope)
    {
        if (envelope.Length < MinimumLength)
        {
            throw KmsException.CiphertextRejected($"too short ({envelope.Length} bytes)");
        }

        if (envelope[0] != Version1)
        {
            throw KmsException.CiphertextRejected($"unknown format 0x{envelope[0]:x2}");
        }

        int idLength = envelope[1];
        if (idLength == 0 || !IsValidKeyId(envelope.Slice(2, Math.Min(idLength, envelope.Length - 2))) || 2 + idLength + 2 > envelope.Length)
        {
            throw KmsException.CiphertextRejected("malformed root key id");
        }

        int contextLength = 2 + idLength;
        int wrappedLength = BinaryPrimitives.ReadUInt16BigEndian(envelope.Slice(contextLength, 2));
        int headerLength = contextLength + 2 + wrappedLength;
        if (wrappedLength == 0 || headerLength > envelope.Length - NonceSize - TagSize)
        {
            throw KmsException.CiphertextRejected("malformed wrapped data key");
        }

        return new EnvelopeLayout(contextLength, headerLength);
    }

    /// <summary>Key ids are printable ASCII so they are valid UTF-8 and safe in logs and key_id fields.</summary>
    public static bool IsValidKeyId(ReadOnlySpan<byte> id)
    {
        foreach (var b in id)
        {
            if (b is < 0x21 or > 0x7e)
            {
                return false;
            }
        }

        return id.Length is > 0 and <= MaxKeyIdLength;
    }

    private static byte[] EncodeKeyId(string keyId)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(keyId);
        if (!IsValidKeyId(bytes) || bytes.Length != keyId.Length)
        {
            throw new KmsException(KmsErrorKind.Internal, "root key id must be 1-255 printable ASCII characters");
        }

        return bytes;
    }
}
