using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// Copies one client-to-server HTTP/2 byte stream from <c>input</c> to <c>output</c>, rewriting an
/// invalid <c>:authority</c> to <c>localhost</c>.
/// <list type="bullet">
/// <item>Pass-through (start): every header block is decoded to follow the client's dynamic table and,
/// if its authority is valid or absent, forwarded byte for byte, so the server's table equals ours.</item>
/// <item>Rewrite (from the first invalid authority on, for good): every header block is re-encoded
/// statelessly, so the server's dynamic table is never used or changed again.</item>
/// <item>Opaque: not HTTP/2 prior knowledge, or a framing or HPACK error seen in pass-through; the rest
/// is copied untouched so the server answers it as it would without us.</item>
/// <item>Refused: after a header block over the bound; the rest of the input is dropped.</item>
/// </list>
/// Frames other than HEADERS/CONTINUATION are streamed through without being buffered.
/// <para>
/// Kestrel sees a header block only once it is complete, so its request-headers timeout cannot
/// apply to one held here: a connection holding an incomplete block (or a partial frame) longer than
/// <see cref="DefaultHeaderBlockTimeout"/> is closed instead. Its size is bounded by
/// <see cref="MaxHeaderBlockSizeFor"/> Kestrel's <c>MaxRequestHeadersTotalSize</c>: with the plugin's
/// 16 KiB, a block (frames as received, the frame being received included) of at most 32 KiB, held twice
/// (also as concatenated fragments): at most 64 KiB per connection, for at most 5 s. A larger block is
/// dropped and the connection closed with GOAWAY(COMPRESSION_ERROR) (see <see cref="RefuseBlock"/>).
/// The decoded list, built only while a complete block is processed, is bounded by the same size.
/// </para>
/// </summary>
internal sealed class AuthorityNormalizingConnection : IDisposable
{
    /// <summary>
    /// Kestrel counts each header as name + value + 32 bytes; a literal HPACK field costs at most 9 bytes
    /// more than name + value, and encoders use Huffman only where it is shorter. So a block Kestrel could
    /// accept is no larger than its limit; twice the limit leaves room for padding, frame headers and
    /// unusual encoders, and also bounds the decoded list (more than Kestrel accepts, so it decides).
    /// </summary>
    public static int MaxHeaderBlockSizeFor(int maxRequestHeadersTotalSize) => 2 * maxRequestHeadersTotalSize;

    /// <summary>The same as Kestrel's request-headers timeout in the plugin.</summary>
    public static readonly TimeSpan DefaultHeaderBlockTimeout = TimeSpan.FromSeconds(5);

    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly HpackDecoder _decoder;
    private readonly int _maxHeaderBlockSize;
    private readonly int _maxHeaderTableSize;
    private readonly TimeSpan _headerBlockTimeout;
    private readonly Action<bool>? _onRewriteStarted;
    private readonly Action<Exception>? _onAbort;
    private readonly Action<int>? _onBlockRefused;
    private readonly List<HeaderField> _fields = [];
    private readonly ArrayBufferWriter<byte> _encoded = new(1024);

    private readonly HeaderBlock _block = new();

    private Mode _mode = Mode.Preface;
    private long _passThroughRemaining;

    /// <param name="onRewriteStarted">Called once when the connection switches to rewrite mode;
    /// the argument says whether the authority looked like a socket path.</param>
    public AuthorityNormalizingConnection(
        PipeReader input,
        PipeWriter output,
        int maxRequestHeadersTotalSize,
        int maxHeaderTableSize = 4096,
        Action<bool>? onRewriteStarted = null,
        Action<Exception>? onAbort = null,
        TimeSpan? headerBlockTimeout = null,
        Action<int>? onBlockRefused = null)
    {
        _headerBlockTimeout = headerBlockTimeout ?? DefaultHeaderBlockTimeout;
        _input = input;
        _output = output;
        _maxHeaderBlockSize = MaxHeaderBlockSizeFor(maxRequestHeadersTotalSize);
        _maxHeaderTableSize = maxHeaderTableSize;
        _decoder = new HpackDecoder(maxHeaderTableSize, _maxHeaderBlockSize);
        _onRewriteStarted = onRewriteStarted;
        _onAbort = onAbort;
        _onBlockRefused = onBlockRefused;
    }

    private enum Mode
    {
        Preface,
        PassThrough,
        Rewrite,
        Opaque,
        Refused,
    }

    public bool IsRewriting => _mode == Mode.Rewrite;

    /// <summary>
    /// Pumps until the input ends, the output's reader completes, or a pending read is cancelled.
    /// Completes <c>output</c> (with the error, if the connection must be aborted, which is also passed
    /// to <c>onAbort</c>) and <c>input</c>. Does not throw.
    /// </summary>
    public async Task RunAsync()
    {
        Exception? error = null;
        long heldSince = 0;
        try
        {
            while (true)
            {
                ReadResult result = heldSince == 0
                    ? await _input.ReadAsync().ConfigureAwait(false)
                    : await ReadWhileHoldingAsync(heldSince).ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                SequencePosition consumed = Process(buffer, result.IsCompleted);
                bool holding = _block.IsOpen || !buffer.Slice(consumed).IsEmpty;
                heldSince = !holding ? 0 : heldSince == 0 ? Stopwatch.GetTimestamp() : heldSince;
                _input.AdvanceTo(consumed, buffer.End);

                FlushResult flush = await _output.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled || result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }

        await _output.CompleteAsync(error).ConfigureAwait(false);
        await _input.CompleteAsync().ConfigureAwait(false);
        if (error is not null)
        {
            _onAbort?.Invoke(error);
        }
    }

    // Bytes are held that the server has not seen: wait for more only until the timeout runs out.
    private async Task<ReadResult> ReadWhileHoldingAsync(long heldSince)
    {
        var remaining = _headerBlockTimeout - Stopwatch.GetElapsedTime(heldSince);
        using var timeout = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        try
        {
            return await _input.ReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new ConnectionAbortedException(
                $"HTTP/2 header block still incomplete after {_headerBlockTimeout.TotalSeconds:0.#} s; closing the connection.");
        }
    }

    public void Dispose()
    {
        _block.Dispose();
    }

    /// <returns>How far <paramref name="buffer"/> was consumed; the rest is re-read with more data.</returns>
    private SequencePosition Process(ReadOnlySequence<byte> buffer, bool isCompleted)
    {
        Span<byte> headerBytes = stackalloc byte[Http2FrameHeader.Size];
        while (true)
        {
            if (_mode == Mode.Opaque)
            {
                Forward(buffer);
                return buffer.End;
            }

            if (_mode == Mode.Refused)
            {
                return buffer.End;
            }

            if (_mode == Mode.Preface)
            {
                if (!TryCheckPreface(buffer, isCompleted))
                {
                    return buffer.Start;
                }

                if (_mode == Mode.PassThrough)
                {
                    buffer = buffer.Slice(Preface.Length);
                }

                continue;
            }

            if (_passThroughRemaining > 0)
            {
                long count = Math.Min(_passThroughRemaining, buffer.Length);
                Forward(buffer.Slice(0, count));
                _passThroughRemaining -= count;
                buffer = buffer.Slice(count);
            }

            if (buffer.Length < Http2FrameHeader.Size)
            {
                if (isCompleted)
                {
                    ForwardLeftovers(buffer);
                    return buffer.End;
                }

                return buffer.Start;
            }

            buffer.Slice(0, Http2FrameHeader.Size).CopyTo(headerBytes);
            var header = Http2FrameHeader.Read(headerBytes);

            bool continuesBlock = _block.IsOpen && header.Type == Http2FrameHeader.TypeContinuation && header.StreamId == _block.StreamId;
            if (_block.IsOpen && !continuesBlock)
            {
                // RFC 9113 §6.10: nothing may interleave with a header block. The server will see it too.
                GiveUp("A frame interleaved with a header block.");
                continue;
            }

            if (!continuesBlock && header.Type != Http2FrameHeader.TypeHeaders)
            {
                Forward(buffer.Slice(0, Http2FrameHeader.Size));
                buffer = buffer.Slice(Http2FrameHeader.Size);
                _passThroughRemaining = header.Length;
                continue;
            }

            if (header.Length > _maxHeaderBlockSize - _block.RawLength - Http2FrameHeader.Size)
            {
                RefuseBlock(header.StreamId);
                return buffer.End;
            }

            long frameLength = Http2FrameHeader.Size + header.Length;
            if (buffer.Length < frameLength)
            {
                if (isCompleted)
                {
                    ForwardLeftovers(buffer);
                    return buffer.End;
                }

                return buffer.Start;
            }

            if (!_block.TryAppend(header, buffer.Slice(0, frameLength)))
            {
                // The frame stays in 'buffer', so in pass-through the server gets it too.
                GiveUp("Malformed HEADERS frame.");
                continue;
            }

            buffer = buffer.Slice(frameLength);

            if (header.HasFlag(Http2FrameHeader.FlagEndHeaders))
            {
                CompleteBlock();
            }
        }
    }

    /// <summary>
    /// For a header block over the bound. Dropping it loses the client's HPACK state, so the connection
    /// cannot go on: instead of the block, Kestrel gets one that only raises the dynamic table size above
    /// the limit Kestrel advertised, a COMPRESSION_ERROR (RFC 7541 §4.2, RFC 9113 §4.3), which it answers
    /// with its own GOAWAY before it closes the connection. Nothing of the block reaches it, nor anything after it (read and dropped until
    /// Kestrel is done, so that the transport stays open for its GOAWAY).
    /// </summary>
    private void RefuseBlock(int streamId)
    {
        ResetBlock();
        Span<byte> frame = _output.GetSpan(Http2FrameHeader.Size + HpackInteger.MaxEncodedLength);
        int length = HpackInteger.Encode(_maxHeaderTableSize + 1, 5, 0x20, frame[Http2FrameHeader.Size..]);
        byte flags = Http2FrameHeader.FlagEndHeaders | Http2FrameHeader.FlagEndStream;
        new Http2FrameHeader(length, Http2FrameHeader.TypeHeaders, flags, streamId).Write(frame);
        _output.Advance(Http2FrameHeader.Size + length);
        _mode = Mode.Refused;
        _onBlockRefused?.Invoke(_maxHeaderBlockSize);
    }

    /// <returns>False while the bytes so far match but are too few to decide.</returns>
    private bool TryCheckPreface(ReadOnlySequence<byte> buffer, bool isCompleted)
    {
        int available = (int)Math.Min(buffer.Length, Preface.Length);
        Span<byte> start = stackalloc byte[Preface.Length];
        buffer.Slice(0, available).CopyTo(start);
        if (!start[..available].SequenceEqual(Preface[..available]))
        {
            _mode = Mode.Opaque;
            return true;
        }

        if (available < Preface.Length)
        {
            if (isCompleted)
            {
                _mode = Mode.Opaque;
                return true;
            }

            return false;
        }

        _output.Write(Preface);
        _mode = Mode.PassThrough;
        return true;
    }


    private void CompleteBlock()
    {
        try
        {
            _decoder.Decode(_block.Fragments, _fields);
        }
        catch (HpackDecodingException)
        {
            GiveUp("HPACK decoding failed.");
            return;
        }

        var (invalidAuthority, looksLikePath) = AuthorityRewrite.Inspect(_fields);

        if (_mode == Mode.PassThrough && !invalidAuthority)
        {
            Forward(new ReadOnlySequence<byte>(_block.RawFrames));
        }
        else
        {
            if (_mode == Mode.PassThrough)
            {
                _mode = Mode.Rewrite;
                _onRewriteStarted?.Invoke(looksLikePath);
            }

            _encoded.ResetWrittenCount();
            AuthorityRewrite.Encode(CollectionsMarshal.AsSpan(_fields), _encoded);
            _block.WriteAsHeaderFrames(_encoded.WrittenSpan, _output);
        }

        ResetBlock();
    }


    /// <summary>
    /// For input we cannot follow. In pass-through the server's state still equals the client's, so we
    /// hand it the original bytes and stop interpreting; in rewrite mode it does not, so we abort.
    /// </summary>
    private void GiveUp(string reason)
    {
        if (_mode == Mode.Rewrite)
        {
            throw new ConnectionAbortedException(reason);
        }

        Forward(new ReadOnlySequence<byte>(_block.RawFrames));
        ResetBlock();
        _mode = Mode.Opaque;
    }

    private void ForwardLeftovers(ReadOnlySequence<byte> buffer)
    {
        // The client has gone; give the server what it would have seen unless that is now meaningless.
        if (_mode != Mode.Rewrite)
        {
            Forward(new ReadOnlySequence<byte>(_block.RawFrames));
            Forward(buffer);
        }

        ResetBlock();
    }

    private void ResetBlock()
    {
        _block.Clear();
        _fields.Clear();
    }

    private void Forward(ReadOnlySequence<byte> bytes)
    {
        foreach (ReadOnlyMemory<byte> segment in bytes)
        {
            _output.Write(segment.Span);
        }
    }
}
