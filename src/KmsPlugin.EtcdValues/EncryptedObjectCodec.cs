using System.Buffers;
using System.Text;

namespace KmsPlugin.EtcdValues;

/// <summary>
/// Hand-written protobuf codec for <see cref="EncryptedObject"/>, modelled on what kube-apiserver's
/// gogo-generated <c>Unmarshal</c>/<c>Marshal</c> do:
/// <code>
/// field 1 encryptedData          wire 2  bytes
/// field 2 keyID                  wire 2  string
/// field 3 encryptedDEKSource     wire 2  bytes
/// field 4 annotations (repeated) wire 2  entry { 1 key string (wire 2) | 2 value bytes (wire 2) }
/// field 5 encryptedDEKSourceType wire 0  enum (int32)
/// </code>
/// Reading, as Go does: a known field with the wrong wire type is an error; unknown fields are
/// skipped; a repeated singular field keeps the last value; a repeated annotation key keeps the last
/// value; the enum is the low 32 bits of its varint. Stricter than Go, on purpose: keyID and
/// annotation keys must be valid UTF-8 (Go stores any bytes, but kube-apiserver could never send
/// such a key_id to the plugin over gRPC), and annotation entry fields 1 and 2 must be wire type 2.
/// Anything accepted but not written this way shows up as <see cref="KmsV2Value.IsCanonical"/> = false.
/// Writing: fields in number order 1..5, proto3 defaults (empty, 0) left out, annotations sorted
/// by key bytes as Go's deterministic marshal does, each entry key then (non-empty) value.
/// </summary>
internal static class EncryptedObjectCodec
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Go compares strings bytewise; UTF-16 ordinal order differs for some non-ASCII keys.</summary>
    private static readonly Comparer<byte[]> ByteOrder = Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y));

    public static EncryptedObject Parse(ReadOnlyMemory<byte> message)
    {
        var reader = new ProtoReader(message.Span);
        ReadOnlyMemory<byte> encryptedData = default;
        ReadOnlyMemory<byte> encryptedDekSource = default;
        var keyId = string.Empty;
        var annotations = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var type = EncryptedDekSourceType.AesGcmKey;
        while (!reader.AtEnd)
        {
            var (field, wireType) = reader.ReadTag();
            if (wireType == ProtoReader.EndGroup)
            {
                throw EtcdValueException.Malformed("protobuf end-group outside a group");
            }

            switch (field)
            {
                case 1:
                    encryptedData = message[ReadBytesRange(ref reader, field, wireType)];
                    break;
                case 2:
                    keyId = DecodeString(ReadBytes(ref reader, field, wireType), "keyID");
                    break;
                case 3:
                    encryptedDekSource = message[ReadBytesRange(ref reader, field, wireType)];
                    break;
                case 4:
                    var (key, value) = ParseAnnotation(ReadBytes(ref reader, field, wireType));
                    annotations[key] = value;
                    break;
                case 5:
                    RequireWireType(field, wireType, ProtoReader.Varint);
                    type = (EncryptedDekSourceType)unchecked((int)reader.ReadVarint());
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new EncryptedObject(encryptedData, keyId, encryptedDekSource, annotations, type);
    }

    public static void Write(EncryptedObject value, IBufferWriter<byte> output)
    {
        WriteBytes(output, 1, value.EncryptedData.Span);
        WriteBytes(output, 2, Encoding.UTF8.GetBytes(value.KeyId));
        WriteBytes(output, 3, value.EncryptedDekSource.Span);
        var entries = value.Annotations
            .Select(a => (Key: Encoding.UTF8.GetBytes(a.Key), a.Value))
            .OrderBy(a => a.Key, ByteOrder);
        foreach (var (key, entryValue) in entries)
        {
            var keyField = FieldLength(key.Length);
            var valueField = entryValue.Length == 0 ? 0 : FieldLength(entryValue.Length);
            WriteVarint(output, (4 << 3) | ProtoReader.LengthDelimited);
            WriteVarint(output, (ulong)(keyField + valueField));
            WriteField(output, 1, key);
            WriteBytes(output, 2, entryValue);
        }

        if (value.EncryptedDekSourceType != EncryptedDekSourceType.AesGcmKey)
        {
            WriteVarint(output, (5 << 3) | ProtoReader.Varint);
            // Go widens a negative int32 enum to a 10-byte varint.
            WriteVarint(output, unchecked((ulong)(long)(int)value.EncryptedDekSourceType));
        }
    }

    public static byte[] Serialize(EncryptedObject value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(value, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static ReadOnlySpan<byte> ReadBytes(ref ProtoReader reader, int field, int wireType)
    {
        RequireWireType(field, wireType, ProtoReader.LengthDelimited);
        return reader.ReadLengthDelimited();
    }

    private static Range ReadBytesRange(ref ProtoReader reader, int field, int wireType)
    {
        RequireWireType(field, wireType, ProtoReader.LengthDelimited);
        return reader.ReadLengthDelimitedRange();
    }

    private static (string Key, byte[] Value) ParseAnnotation(ReadOnlySpan<byte> entry)
    {
        var reader = new ProtoReader(entry);
        var key = string.Empty;
        var value = Array.Empty<byte>();
        while (!reader.AtEnd)
        {
            var (field, wireType) = reader.ReadTag();
            switch (field)
            {
                case 1:
                    key = DecodeString(ReadBytes(ref reader, field, wireType), "annotation key");
                    break;
                case 2:
                    value = ReadBytes(ref reader, field, wireType).ToArray();
                    break;
                default:
                    if (wireType == ProtoReader.EndGroup)
                    {
                        throw EtcdValueException.Malformed("protobuf end-group outside a group");
                    }

                    reader.SkipField(wireType);
                    break;
            }
        }

        return (key, value);
    }

    private static void RequireWireType(int field, int actual, int expected)
    {
        if (actual != expected)
        {
            throw EtcdValueException.Malformed($"protobuf field {field} has wire type {actual}, expected {expected}");
        }
    }

    private static string DecodeString(ReadOnlySpan<byte> bytes, string what)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new EtcdValueException(EtcdValueError.Malformed, $"etcd value malformed: {what} is not valid UTF-8", e);
        }
    }

    private static int FieldLength(int length) => 1 + VarintLength((ulong)length) + length;

    private static int VarintLength(ulong value)
    {
        var length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }

        return length;
    }

    private static void WriteBytes(IBufferWriter<byte> output, int field, ReadOnlySpan<byte> value)
    {
        if (!value.IsEmpty)
        {
            WriteField(output, field, value);
        }
    }

    private static void WriteField(IBufferWriter<byte> output, int field, ReadOnlySpan<byte> value)
    {
        WriteVarint(output, (ulong)((field << 3) | ProtoReader.LengthDelimited));
        WriteVarint(output, (ulong)value.Length);
        output.Write(value);
    }

    private static void WriteVarint(IBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        output.Advance(i);
    }
}
