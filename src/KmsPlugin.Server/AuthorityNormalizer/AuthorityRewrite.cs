using System.Buffers;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>What an invalid <c>:authority</c> is, and the block re-encoded with <c>localhost</c> in its place.</summary>
internal static class AuthorityRewrite
{
    private static ReadOnlySpan<byte> AuthorityName => ":authority"u8;

    private static ReadOnlySpan<byte> Localhost => "localhost"u8;

    /// <summary>Whether any authority is invalid, and whether one looked like a socket path.</summary>
    public static (bool InvalidAuthority, bool LooksLikePath) Inspect(List<HeaderField> fields)
    {
        bool invalidAuthority = false;
        bool looksLikePath = false;
        foreach (HeaderField field in fields)
        {
            if (IsInvalidAuthority(field))
            {
                invalidAuthority = true;
                looksLikePath |= LooksLikePath(field.Value.Span);
            }
        }

        return (invalidAuthority, looksLikePath);
    }

    /// <summary>
    /// Encodes every field statelessly. Size updates are not re-emitted: they only concern the table the
    /// server no longer uses. No Huffman coding: the block crosses an in-memory pipe, where its size does
    /// not matter, and Kestrel copies a raw literal where it would have to decode a Huffman-coded one.
    /// </summary>
    public static void Encode(ReadOnlySpan<HeaderField> fields, IBufferWriter<byte> encoded)
    {
        foreach (HeaderField field in fields)
        {
            if (IsInvalidAuthority(field))
            {
                HpackEncoder.EncodeField(AuthorityName, Localhost, field.NeverIndexed, encoded, huffman: false);
            }
            else
            {
                HpackEncoder.EncodeField(field, encoded, huffman: false);
            }
        }
    }

    private static bool IsInvalidAuthority(HeaderField field) =>
        field.Name.Span.SequenceEqual(AuthorityName) && !AuthorityValidator.IsValid(field.Value.Span);

    private static bool LooksLikePath(ReadOnlySpan<byte> value) =>
        value.Contains((byte)'/') || value.IndexOf("%2F"u8) >= 0 || value.IndexOf("%2f"u8) >= 0;
}
