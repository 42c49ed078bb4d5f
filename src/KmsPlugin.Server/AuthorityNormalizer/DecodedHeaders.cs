using System.Buffers;
using System.Runtime.InteropServices;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// The fields of the header block being processed, decoded with the client's dynamic table, and
/// their stateless re-encoding. Built only while a complete block is processed.
/// </summary>
internal sealed class DecodedHeaders
{
    private readonly HpackDecoder _decoder;
    private readonly List<HeaderField> _fields = [];
    private readonly ArrayBufferWriter<byte> _encoded = new(1024);

    public DecodedHeaders(int maxHeaderTableSize, int maxHeaderBlockSize)
    {
        _decoder = new HpackDecoder(maxHeaderTableSize, maxHeaderBlockSize);
    }

    /// <exception cref="HpackDecodingException">The block cannot be decoded.</exception>
    public void Decode(ReadOnlyMemory<byte> fragments) => _decoder.Decode(fragments, _fields);

    public (bool InvalidAuthority, bool LooksLikePath) InspectAuthority() => AuthorityRewrite.Inspect(_fields);

    /// <summary>The fields re-encoded statelessly, with the authority rewritten.</summary>
    public ReadOnlySpan<byte> Rewrite()
    {
        _encoded.ResetWrittenCount();
        AuthorityRewrite.Encode(CollectionsMarshal.AsSpan(_fields), _encoded);
        return _encoded.WrittenSpan;
    }

    public void Clear() => _fields.Clear();
}
