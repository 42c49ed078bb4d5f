using System.Buffers.Binary;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// The 9-octet HTTP/2 frame header (RFC 9113 §4.1):
/// <code>
/// +-----------------------------------------------+
/// |                 Length (24)                   |
/// +---------------+---------------+---------------+
/// |   Type (8)    |   Flags (8)   |
/// +-+-------------+---------------+-------------------------------+
/// |R|                 Stream Identifier (31)                      |
/// +-+-------------------------------------------------------------+
/// </code>
/// </summary>
internal readonly struct Http2FrameHeader
{
    public const int Size = 9;

    public const byte TypeHeaders = 0x1;
    public const byte TypeContinuation = 0x9;

    public const byte FlagEndStream = 0x1;
    public const byte FlagEndHeaders = 0x4;
    public const byte FlagPadded = 0x8;
    public const byte FlagPriority = 0x20;

    /// <summary>The smallest SETTINGS_MAX_FRAME_SIZE, so always accepted by the peer.</summary>
    public const int MinMaxFrameSize = 16384;

    public Http2FrameHeader(int length, byte type, byte flags, int streamId)
    {
        Length = length;
        Type = type;
        Flags = flags;
        StreamId = streamId;
    }

    public int Length { get; }

    public byte Type { get; }

    public byte Flags { get; }

    public int StreamId { get; }

    public bool HasFlag(byte flag) => (Flags & flag) != 0;

    public static Http2FrameHeader Read(ReadOnlySpan<byte> source)
    {
        int length = (source[0] << 16) | (source[1] << 8) | source[2];
        int streamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(source[5..]) & 0x7FFFFFFF);
        return new Http2FrameHeader(length, source[3], source[4], streamId);
    }

    public void Write(Span<byte> destination)
    {
        destination[0] = (byte)(Length >> 16);
        destination[1] = (byte)(Length >> 8);
        destination[2] = (byte)Length;
        destination[3] = Type;
        destination[4] = Flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], (uint)StreamId);
    }
}
