namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// The one exception for malformed HPACK input (RFC 7541): truncated or overflowing integers,
/// bad indexes, bad Huffman data, illegal table size updates, oversized header lists.
/// It is an HTTP/2 COMPRESSION_ERROR, fatal for the connection's decoding context.
/// </summary>
internal sealed class HpackDecodingException : Exception
{
    public HpackDecodingException(string message)
        : base(message)
    {
    }
}
