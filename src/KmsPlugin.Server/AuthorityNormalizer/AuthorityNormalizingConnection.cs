using System.Buffers;
using System.IO.Pipelines;
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
/// dropped and the connection closed with GOAWAY(COMPRESSION_ERROR) (see <see cref="BlockRefusalFrame"/>).
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

    private readonly PipeReader _input;
    private readonly HeaderBlockTimeoutReader _reader;
    private readonly PipeWriter _output;
    private readonly AuthorityNormalizingProcessor _processor;
    private readonly Action<Exception>? _onAbort;

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
        _input = input;
        _reader = new HeaderBlockTimeoutReader(input, headerBlockTimeout ?? DefaultHeaderBlockTimeout);
        _output = output;
        _processor = new AuthorityNormalizingProcessor(
            output, MaxHeaderBlockSizeFor(maxRequestHeadersTotalSize), maxHeaderTableSize, onRewriteStarted, onBlockRefused);
        _onAbort = onAbort;
    }

    public bool IsRewriting => _processor.IsRewriting;

    /// <summary>
    /// Pumps until the input ends, the output's reader completes, or a pending read is cancelled.
    /// Completes <c>output</c> (with the error, if the connection must be aborted, which is also passed
    /// to <c>onAbort</c>) and <c>input</c>. Does not throw.
    /// </summary>
    public async Task RunAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await _reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                SequencePosition consumed = _processor.Process(buffer, result.IsCompleted);
                _reader.SetHolding(_processor.IsBlockOpen || !buffer.Slice(consumed).IsEmpty);
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

    public void Dispose()
    {
        _processor.Dispose();
    }
}
