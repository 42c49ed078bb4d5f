using System.Text;

namespace KmsPlugin.EtcdValues.Tests;

/// <summary>Builds protobuf bytes by hand, including forms no encoder writes.</summary>
internal static class Protobuf
{
    public static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    public static byte[] Tag(int field, int wireType) => Varint(((ulong)(uint)field << 3) | (uint)wireType);

    public static byte[] Bytes(int field, ReadOnlySpan<byte> value) => [.. Tag(field, 2), .. Varint((ulong)value.Length), .. value];

    public static byte[] String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public static byte[] Entry(string key, string value) => Bytes(4, [.. String(1, key), .. String(2, value)]);

    /// <summary>A valid type-0 EncryptedObject: 40 bytes of data, keyID "k", encryptedDEKSource "dek".</summary>
    public static byte[] Minimal => [.. Bytes(1, new byte[40]), .. String(2, "k"), .. String(3, "dek")];

    public static byte[] Value(params byte[][] parts) => [.. "k8s:enc:kms:v2:p:"u8, .. parts.SelectMany(p => p)];
}
