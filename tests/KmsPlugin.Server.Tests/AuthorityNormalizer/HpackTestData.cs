using System.Text;
using KmsPlugin.Server.AuthorityNormalizer;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

internal static class HpackTestData
{
    public static byte[] Hex(string hex) =>
        Convert.FromHexString(string.Concat(hex.Where(c => !char.IsWhiteSpace(c))));

    public static (string Name, string Value)[] ToStrings(IEnumerable<HeaderField> fields) =>
        fields.Select(f => (Ascii(f.Name), Ascii(f.Value))).ToArray();

    public static (string Name, string Value)[] TableContents(HpackDynamicTable table) =>
        Enumerable.Range(0, table.Count).Select(i => (Ascii(table[i].Name), Ascii(table[i].Value))).ToArray();

    public static string Ascii(ReadOnlyMemory<byte> bytes) => Encoding.ASCII.GetString(bytes.Span);

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);
}
