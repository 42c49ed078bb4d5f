using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// The byte-stream side of <see cref="AuthorityNormalizingConnection"/>: takes what was read from the
/// client, writes what the server gets, and says how much it consumed. Its modes are described there.
/// </summary>
internal sealed class AuthorityNormalizingProcessor : IDisposable
{
    private readonly PipeWriter _output;
    private readonly DecodedHeaders _headers;
    private readonly int _maxHeaderBlockSize;
    private readonly int _maxHeaderTableSize;
    private readonly Action<bool>? _onRewriteStarted;
    private readonly Action<int>? _onBlockRefused;
    private readonly HeaderBlock _block = new();

    private NormalizerMode _mode = NormalizerMode.Preface;
    private long _passThroughRemaining;

    public AuthorityNormalizingProcessor(
        PipeWriter output,
        int maxHeaderBlockSize,
        int maxHeaderTableSize,
        Action<bool>? onRewriteStarted,
        Action<int>? onBlockRefused)
    {
        _output = output;
        _maxHeaderBlockSize = maxHeaderBlockSize;
        _maxHeaderTableSize = maxHeaderTableSize;
        _headers = new DecodedHeaders(maxHeaderTableSize, maxHeaderBlockSize);
        _onRewriteStarted = onRewriteStarted;
        _onBlockRefused = onBlockRefused;
    }

    public bool IsRewriting => _mode == NormalizerMode.Rewrite;

    /// <summary>Whether part of a header block is held (the server has not seen it).</summary>
    public bool IsBlockOpen => _block.IsOpen;

    public void Dispose()
    {
        _block.Dispose();
    }

    /// <returns>How far <paramref name="buffer"/> was consumed; the rest is re-read with more data.</returns>
    public SequencePosition Process(ReadOnlySequence<byte> buffer, bool isCompleted)
    {
        while (true)
        {
            if (_mode == NormalizerMode.Opaque)
            {
                Forward(buffer);
                return buffer.End;
            }

            if (_mode == NormalizerMode.Refused)
            {
                return buffer.End;
            }

            SequencePosition? stop = _mode == NormalizerMode.Preface
                ? ProcessPreface(ref buffer, isCompleted)
                : ProcessFrame(ref buffer, isCompleted);
            if (stop is { } position)
            {
                return position;
            }
        }
    }

    /// <returns>Null to go on, or where <see cref="Process"/> stops.</returns>
    private SequencePosition? ProcessPreface(ref ReadOnlySequence<byte> buffer, bool isCompleted)
    {
        switch (Http2Preface.Check(buffer))
        {
            case Http2Preface.Match.Incomplete when !isCompleted:
                return buffer.Start;
            case Http2Preface.Match.Complete:
                _output.Write(Http2Preface.Bytes);
                _mode = NormalizerMode.PassThrough;
                buffer = buffer.Slice(Http2Preface.Bytes.Length);
                return null;
            default:
                _mode = NormalizerMode.Opaque;
                return null;
        }
    }

    /// <returns>Null to go on, or where <see cref="Process"/> stops.</returns>
    private SequencePosition? ProcessFrame(ref ReadOnlySequence<byte> buffer, bool isCompleted)
    {
        if (_passThroughRemaining > 0)
        {
            long count = Math.Min(_passThroughRemaining, buffer.Length);
            Forward(buffer.Slice(0, count));
            _passThroughRemaining -= count;
            buffer = buffer.Slice(count);
        }

        if (buffer.Length < Http2FrameHeader.Size)
        {
            return StopShort(buffer, isCompleted);
        }

        var header = ReadFrameHeader(buffer);
        bool continuesBlock = _block.IsOpen && header.Type == Http2FrameHeader.TypeContinuation && header.StreamId == _block.StreamId;
        if (_block.IsOpen && !continuesBlock)
        {
            // RFC 9113 §6.10: nothing may interleave with a header block. The server will see it too.
            GiveUp("A frame interleaved with a header block.");
            return null;
        }

        if (!continuesBlock && header.Type != Http2FrameHeader.TypeHeaders)
        {
            Forward(buffer.Slice(0, Http2FrameHeader.Size));
            buffer = buffer.Slice(Http2FrameHeader.Size);
            _passThroughRemaining = header.Length;
            return null;
        }

        return ProcessHeaderFrame(ref buffer, header, isCompleted);
    }

    /// <returns>Null to go on, or where <see cref="Process"/> stops.</returns>
    private SequencePosition? ProcessHeaderFrame(ref ReadOnlySequence<byte> buffer, Http2FrameHeader header, bool isCompleted)
    {
        if (header.Length > _maxHeaderBlockSize - _block.RawLength - Http2FrameHeader.Size)
        {
            RefuseBlock(header.StreamId);
            return buffer.End;
        }

        long frameLength = Http2FrameHeader.Size + header.Length;
        if (buffer.Length < frameLength)
        {
            return StopShort(buffer, isCompleted);
        }

        if (!_block.TryAppend(header, buffer.Slice(0, frameLength)))
        {
            // The frame stays in 'buffer', so in pass-through the server gets it too.
            GiveUp("Malformed HEADERS frame.");
            return null;
        }

        buffer = buffer.Slice(frameLength);
        if (header.HasFlag(Http2FrameHeader.FlagEndHeaders))
        {
            CompleteBlock();
        }

        return null;
    }

    private static Http2FrameHeader ReadFrameHeader(ReadOnlySequence<byte> buffer)
    {
        Span<byte> headerBytes = stackalloc byte[Http2FrameHeader.Size];
        buffer.Slice(0, Http2FrameHeader.Size).CopyTo(headerBytes);
        return Http2FrameHeader.Read(headerBytes);
    }

    // A frame (or its header) is only partly there: wait for the rest, unless the input has ended.
    private SequencePosition StopShort(ReadOnlySequence<byte> buffer, bool isCompleted)
    {
        if (!isCompleted)
        {
            return buffer.Start;
        }

        ForwardLeftovers(buffer);
        return buffer.End;
    }

    /// <summary>
    /// For a header block over the bound. Dropping it loses the client's HPACK state, so the connection
    /// cannot go on: instead of the block, Kestrel gets <see cref="BlockRefusalFrame"/>, which it answers
    /// with its own GOAWAY before it closes the connection. Nothing of the block reaches it, nor anything
    /// after it (read and dropped until Kestrel is done, so that the transport stays open for its GOAWAY).
    /// </summary>
    private void RefuseBlock(int streamId)
    {
        ResetBlock();
        BlockRefusalFrame.Write(_output, _maxHeaderTableSize, streamId);
        _mode = NormalizerMode.Refused;
        _onBlockRefused?.Invoke(_maxHeaderBlockSize);
    }

    private void CompleteBlock()
    {
        try
        {
            _headers.Decode(_block.Fragments);
        }
        catch (HpackDecodingException)
        {
            GiveUp("HPACK decoding failed.");
            return;
        }

        var (invalidAuthority, looksLikePath) = _headers.InspectAuthority();

        if (_mode == NormalizerMode.PassThrough && !invalidAuthority)
        {
            Forward(new ReadOnlySequence<byte>(_block.RawFrames));
        }
        else
        {
            if (_mode == NormalizerMode.PassThrough)
            {
                _mode = NormalizerMode.Rewrite;
                _onRewriteStarted?.Invoke(looksLikePath);
            }

            _block.WriteAsHeaderFrames(_headers.Rewrite(), _output);
        }

        ResetBlock();
    }

    /// <summary>
    /// For input we cannot follow. In pass-through the server's state still equals the client's, so we
    /// hand it the original bytes and stop interpreting; in rewrite mode it does not, so we abort.
    /// </summary>
    private void GiveUp(string reason)
    {
        if (_mode == NormalizerMode.Rewrite)
        {
            throw new ConnectionAbortedException(reason);
        }

        Forward(new ReadOnlySequence<byte>(_block.RawFrames));
        ResetBlock();
        _mode = NormalizerMode.Opaque;
    }

    private void ForwardLeftovers(ReadOnlySequence<byte> buffer)
    {
        // The client has gone; give the server what it would have seen unless that is now meaningless.
        if (_mode != NormalizerMode.Rewrite)
        {
            Forward(new ReadOnlySequence<byte>(_block.RawFrames));
            Forward(buffer);
        }

        ResetBlock();
    }

    private void ResetBlock()
    {
        _block.Clear();
        _headers.Clear();
    }

    private void Forward(ReadOnlySequence<byte> bytes)
    {
        foreach (ReadOnlyMemory<byte> segment in bytes)
        {
            _output.Write(segment.Span);
        }
    }
}
