using System.Buffers;
using System.IO.Pipelines;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// The header block being collected: the raw frames as received (forwarded as they are in
/// pass-through), the concatenated fragments (decoded), and what a re-encoded block must keep of
/// its first HEADERS frame: stream, END_STREAM and the priority fields.
/// </summary>
internal sealed class HeaderBlock : IDisposable
{
    private readonly PooledByteBuffer _rawFrames = new();
    private readonly PooledByteBuffer _fragments = new();
    private readonly byte[] _priority = new byte[5];
    private bool _isOpen;
    private int _streamId;
    private bool _endStream;
    private bool _hasPriority;

    /// <summary>True from its first frame until <see cref="Clear"/>.</summary>
    public bool IsOpen => _isOpen;

    public int StreamId => _streamId;

    public int RawLength => _rawFrames.Length;

    public ReadOnlyMemory<byte> RawFrames => _rawFrames.Memory;

    public ReadOnlyMemory<byte> Fragments => _fragments.Memory;

    /// <summary>
    /// Buffers one HEADERS or CONTINUATION frame. HEADERS payload:
    /// <code>
    /// [Pad Length (8)] [E(1) Stream Dependency (31) Weight (8)] Field Block Fragment [Padding]
    ///  if PADDED        if PRIORITY
    /// </code>
    /// </summary>
    /// <returns>False if the padding or priority fields do not fit in the payload.</returns>
    public bool TryAppend(Http2FrameHeader header, ReadOnlySequence<byte> frame)
    {
        ReadOnlySequence<byte> payload = frame.Slice(Http2FrameHeader.Size);
        if (!_isOpen)
        {
            int padLength = 0;
            if (header.HasFlag(Http2FrameHeader.FlagPadded))
            {
                if (payload.Length < 1)
                {
                    return false;
                }

                padLength = payload.FirstSpan[0];
                payload = payload.Slice(1);
            }

            _hasPriority = header.HasFlag(Http2FrameHeader.FlagPriority);
            if (_hasPriority)
            {
                if (payload.Length < _priority.Length)
                {
                    return false;
                }

                payload.Slice(0, _priority.Length).CopyTo(_priority);
                payload = payload.Slice(_priority.Length);
            }

            if (padLength > payload.Length)
            {
                return false;
            }

            payload = payload.Slice(0, payload.Length - padLength);
            _isOpen = true;
            _streamId = header.StreamId;
            _endStream = header.HasFlag(Http2FrameHeader.FlagEndStream);
        }

        _rawFrames.Append(frame);
        _fragments.Append(payload);
        return true;
    }

    /// <summary>HEADERS (keeping END_STREAM and the priority fields, without padding) then CONTINUATIONs.</summary>
    public void WriteAsHeaderFrames(ReadOnlySpan<byte> block, PipeWriter output)
    {
        int priorityLength = _hasPriority ? _priority.Length : 0;
        int chunk = Math.Min(block.Length, Http2FrameHeader.MinMaxFrameSize - priorityLength);
        byte flags = (byte)((_endStream ? Http2FrameHeader.FlagEndStream : 0)
            | (_hasPriority ? Http2FrameHeader.FlagPriority : 0)
            | (chunk == block.Length ? Http2FrameHeader.FlagEndHeaders : 0));

        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + priorityLength + chunk);
        new Http2FrameHeader(priorityLength + chunk, Http2FrameHeader.TypeHeaders, flags, _streamId).Write(span);
        _priority.AsSpan(0, priorityLength).CopyTo(span[Http2FrameHeader.Size..]);
        block[..chunk].CopyTo(span[(Http2FrameHeader.Size + priorityLength)..]);
        output.Advance(Http2FrameHeader.Size + priorityLength + chunk);
        block = block[chunk..];

        while (!block.IsEmpty)
        {
            chunk = Math.Min(block.Length, Http2FrameHeader.MinMaxFrameSize);
            flags = chunk == block.Length ? Http2FrameHeader.FlagEndHeaders : (byte)0;
            span = output.GetSpan(Http2FrameHeader.Size + chunk);
            new Http2FrameHeader(chunk, Http2FrameHeader.TypeContinuation, flags, _streamId).Write(span);
            block[..chunk].CopyTo(span[Http2FrameHeader.Size..]);
            output.Advance(Http2FrameHeader.Size + chunk);
            block = block[chunk..];
        }
    }

    public void Clear()
    {
        _isOpen = false;
        _rawFrames.Clear();
        _fragments.Clear();
    }

    public void Dispose()
    {
        _rawFrames.Dispose();
        _fragments.Dispose();
    }
}
