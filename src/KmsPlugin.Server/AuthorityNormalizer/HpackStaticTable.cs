using System.Text;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>The 61-entry static table, RFC 7541 Appendix A. Indexes are 1-based as on the wire.</summary>
internal static class HpackStaticTable
{
    public const int Count = 61;

    private static readonly HeaderField[] Entries =
    [
        Entry(":authority", ""),
        Entry(":method", "GET"),
        Entry(":method", "POST"),
        Entry(":path", "/"),
        Entry(":path", "/index.html"),
        Entry(":scheme", "http"),
        Entry(":scheme", "https"),
        Entry(":status", "200"),
        Entry(":status", "204"),
        Entry(":status", "206"),
        Entry(":status", "304"),
        Entry(":status", "400"),
        Entry(":status", "404"),
        Entry(":status", "500"),
        Entry("accept-charset", ""),
        Entry("accept-encoding", "gzip, deflate"),
        Entry("accept-language", ""),
        Entry("accept-ranges", ""),
        Entry("accept", ""),
        Entry("access-control-allow-origin", ""),
        Entry("age", ""),
        Entry("allow", ""),
        Entry("authorization", ""),
        Entry("cache-control", ""),
        Entry("content-disposition", ""),
        Entry("content-encoding", ""),
        Entry("content-language", ""),
        Entry("content-length", ""),
        Entry("content-location", ""),
        Entry("content-range", ""),
        Entry("content-type", ""),
        Entry("cookie", ""),
        Entry("date", ""),
        Entry("etag", ""),
        Entry("expect", ""),
        Entry("expires", ""),
        Entry("from", ""),
        Entry("host", ""),
        Entry("if-match", ""),
        Entry("if-modified-since", ""),
        Entry("if-none-match", ""),
        Entry("if-range", ""),
        Entry("if-unmodified-since", ""),
        Entry("last-modified", ""),
        Entry("link", ""),
        Entry("location", ""),
        Entry("max-forwards", ""),
        Entry("proxy-authenticate", ""),
        Entry("proxy-authorization", ""),
        Entry("range", ""),
        Entry("referer", ""),
        Entry("refresh", ""),
        Entry("retry-after", ""),
        Entry("server", ""),
        Entry("set-cookie", ""),
        Entry("strict-transport-security", ""),
        Entry("transfer-encoding", ""),
        Entry("user-agent", ""),
        Entry("vary", ""),
        Entry("via", ""),
        Entry("www-authenticate", ""),
    ];

    // Entry indexes (0-based) by name length: a lookup compares only names of the right length.
    private static readonly int[][] ByNameLength = IndexByNameLength();

    /// <summary>The entry at a 1-based <paramref name="index"/> (1..61).</summary>
    public static HeaderField Get(int index) => Entries[index - 1];

    /// <summary>
    /// Finds <paramref name="name"/> in the table: returns the 1-based index of the entry matching name
    /// and value if there is one (<paramref name="valueMatches"/> true), else of the first entry with that
    /// name, else 0.
    /// </summary>
    public static int Find(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out bool valueMatches)
    {
        int nameIndex = 0;
        int[] candidates = name.Length < ByNameLength.Length ? ByNameLength[name.Length] : [];
        foreach (int i in candidates)
        {
            HeaderField entry = Entries[i];
            if (!entry.Name.Span.SequenceEqual(name))
            {
                if (nameIndex != 0)
                {
                    // Entries with one name are adjacent.
                    break;
                }

                continue;
            }

            if (nameIndex == 0)
            {
                nameIndex = i + 1;
            }

            if (entry.Value.Span.SequenceEqual(value))
            {
                valueMatches = true;
                return i + 1;
            }
        }

        valueMatches = false;
        return nameIndex;
    }

    private static int[][] IndexByNameLength()
    {
        int longest = Entries.Max(entry => entry.Name.Length);
        var byLength = new int[longest + 1][];
        for (int length = 0; length <= longest; length++)
        {
            byLength[length] = Enumerable.Range(0, Entries.Length).Where(i => Entries[i].Name.Length == length).ToArray();
        }

        return byLength;
    }

    private static HeaderField Entry(string name, string value) =>
        new(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
}
