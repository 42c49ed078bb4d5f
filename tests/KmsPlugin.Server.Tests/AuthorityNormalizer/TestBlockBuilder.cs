using System.Buffers;
using System.Text;
using KmsPlugin.Server.AuthorityNormalizer;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

/// <summary>Builds header blocks the way a client encoder might, including dynamic table use.</summary>
internal sealed class TestBlockBuilder
{
    private readonly ArrayBufferWriter<byte> _writer = new();

    public static byte[] Request(string authority, string? test = null)
    {
        var builder = new TestBlockBuilder()
            .Static(":method", "GET").Static(":scheme", "http").Static(":path", "/").Static(":authority", authority);
        return (test is null ? builder : builder.Static("x-test", test)).ToArray();
    }

    /// <summary>Stateless field, as our encoder writes it.</summary>
    public TestBlockBuilder Static(string name, string value)
    {
        HpackEncoder.EncodeField(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value), false, _writer);
        return this;
    }

    /// <summary>Indexed field (§6.1), static or dynamic index.</summary>
    public TestBlockBuilder Indexed(int index)
    {
        Integer(index, 7, 0x80);
        return this;
    }

    /// <summary>Literal with incremental indexing (§6.2.1), name from a static index.</summary>
    public TestBlockBuilder Incremental(int nameIndex, string value)
    {
        Integer(nameIndex, 6, 0x40);
        HpackEncoder.WriteString(Encoding.ASCII.GetBytes(value), _writer);
        return this;
    }

    /// <summary>Literal with incremental indexing (§6.2.1), literal name.</summary>
    public TestBlockBuilder Incremental(string name, string value)
    {
        Integer(0, 6, 0x40);
        HpackEncoder.WriteString(Encoding.ASCII.GetBytes(name), _writer);
        HpackEncoder.WriteString(Encoding.ASCII.GetBytes(value), _writer);
        return this;
    }

    public TestBlockBuilder SizeUpdate(int size)
    {
        Integer(size, 5, 0x20);
        return this;
    }

    public byte[] ToArray() => _writer.WrittenSpan.ToArray();

    private void Integer(int value, int prefixBits, byte flags)
    {
        Span<byte> span = _writer.GetSpan(HpackInteger.MaxEncodedLength);
        _writer.Advance(HpackInteger.Encode(value, prefixBits, flags, span));
    }
}
