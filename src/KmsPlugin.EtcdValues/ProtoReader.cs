namespace KmsPlugin.EtcdValues;

/// <summary>
/// Protobuf wire reading with the bounds checks of gogo-generated Go code (what kube-apiserver's
/// <c>api.pb.go</c> is): varints of at most 10 bytes (longer is an overflow; non-minimal forms are
/// accepted, as Go accepts them), lengths that must fit in what is left, unknown fields skipped by
/// wire type, groups balanced, wire types 6 and 7 refused. Every failure is
/// <see cref="EtcdValueException"/> (<see cref="EtcdValueError.Malformed"/>).
/// </summary>
internal ref struct ProtoReader
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int StartGroup = 3;
    public const int EndGroup = 4;
    public const int Fixed32 = 5;

    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ProtoReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly bool AtEnd => _position >= _data.Length;

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw EtcdValueException.Malformed("protobuf truncated inside a varint");
            }

            var b = _data[_position++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw EtcdValueException.Malformed("protobuf varint overflows 64 bits");
    }

    /// <summary>Reads a tag. The field number is Go's <c>int32(wire &gt;&gt; 3)</c> and must be positive.</summary>
    public (int FieldNumber, int WireType) ReadTag()
    {
        var tag = ReadVarint();
        var fieldNumber = unchecked((int)(tag >> 3));
        if (fieldNumber <= 0)
        {
            throw EtcdValueException.Malformed($"protobuf field number {fieldNumber} is illegal");
        }

        return (fieldNumber, (int)(tag & 7));
    }

    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var range = ReadLengthDelimitedRange();
        return _data[range];
    }

    /// <summary>Reads a length-delimited field and returns where its value lies in the data.</summary>
    public Range ReadLengthDelimitedRange()
    {
        var length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
        {
            throw EtcdValueException.Malformed($"protobuf length {length} runs past the end ({_data.Length - _position} bytes left)");
        }

        var start = _position;
        _position += (int)length;
        return start.._position;
    }

    /// <summary>Skips the rest of an unknown field whose tag has just been read.</summary>
    public void SkipField(int wireType)
    {
        var depth = 0;
        while (true)
        {
            switch (wireType)
            {
                case Varint:
                    ReadVarint();
                    break;
                case Fixed64:
                    Advance(8);
                    break;
                case LengthDelimited:
                    ReadLengthDelimited();
                    break;
                case StartGroup:
                    depth++;
                    break;
                case EndGroup:
                    if (depth == 0)
                    {
                        throw EtcdValueException.Malformed("protobuf end-group without a start-group");
                    }

                    depth--;
                    break;
                case Fixed32:
                    Advance(4);
                    break;
                default:
                    throw EtcdValueException.Malformed($"protobuf wire type {wireType} is illegal");
            }

            if (depth == 0)
            {
                return;
            }

            wireType = ReadTag().WireType;
        }
    }

    private void Advance(int count)
    {
        if (count > _data.Length - _position)
        {
            throw EtcdValueException.Malformed("protobuf truncated inside a fixed-width field");
        }

        _position += count;
    }
}
