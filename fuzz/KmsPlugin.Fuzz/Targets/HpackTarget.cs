using KmsPlugin.Server.AuthorityNormalizer;

namespace KmsPlugin.Fuzz.Targets;

/// <summary>
/// Header blocks through the HPACK decoder, primed with RFC 7541 C.3.1 so that dynamic indexes
/// resolve: only <see cref="HpackDecodingException"/> escapes, and accepted lists stay in the limit.
/// </summary>
internal sealed class HpackTarget : IFuzzTarget
{
    private const int MaxHeaderListSize = 16 * 1024;
    private static readonly byte[] Primer = Convert.FromHexString("828684410f7777772e6578616d706c652e636f6d");

    public string Name => "hpack";

    public IEnumerable<(string Name, byte[] Bytes)> Seeds() =>
    [
        ("rfc7541-c3-1", Primer),
        ("rfc7541-c4-1-huffman", Convert.FromHexString("828684418cf1e3c2e5f23a6ba0ab90f4ff")),
        ("rfc7541-c4-2-dynamic", Convert.FromHexString("828684be5886a8eb10649cbf")),
        ("rfc7541-c6-1-response", Convert.FromHexString("488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3")),
        ("socket-path-authority", Http2Seeds.RequestBlock("/var/run/kmsplugin/kms.sock")),
    ];

    public void Run(byte[] input)
    {
        var decoder = new HpackDecoder(4096, MaxHeaderListSize);
        var fields = new List<HeaderField>();
        decoder.Decode(Primer, fields);
        try
        {
            decoder.Decode(input, fields);
        }
        catch (HpackDecodingException)
        {
            return;
        }

        if (fields.Sum(f => f.Size) > MaxHeaderListSize || decoder.DynamicTable.Size > 4096)
        {
            throw new PropertyViolation("a decoded block exceeds the limits");
        }
    }
}
