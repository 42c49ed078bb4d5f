using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// Connection middleware that puts an <see cref="AuthorityNormalizingConnection"/> between the
/// transport and Kestrel's HTTP/2 parser. Only the client-to-server direction is touched.
/// </summary>
internal sealed class AuthorityNormalizerMiddleware
{
    private readonly ConnectionDelegate _next;
    private readonly ILogger _logger;
    private readonly int _maxHeaderTableSize;
    private readonly int _maxRequestHeadersTotalSize;

    public AuthorityNormalizerMiddleware(ConnectionDelegate next, ILogger logger, int maxHeaderTableSize, int maxRequestHeadersTotalSize)
    {
        _next = next;
        _logger = logger;
        _maxHeaderTableSize = maxHeaderTableSize;
        _maxRequestHeadersTotalSize = maxRequestHeadersTotalSize;
    }

    public async Task OnConnectionAsync(ConnectionContext context)
    {
        IDuplexPipe transport = context.Transport;
        // Inline: Kestrel's HTTP/2 read loop runs on the pump's thread as the pump flushes, so the extra
        // pipe adds no thread hop to a call. Kestrel's own memory pool, as its transport uses.
        var pool = context.Features.Get<IMemoryPoolFeature>()?.MemoryPool;
        var pipe = new Pipe(new PipeOptions(pool, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        using var normalizer = new AuthorityNormalizingConnection(
            transport.Input,
            pipe.Writer,
            _maxRequestHeadersTotalSize,
            _maxHeaderTableSize,
            onRewriteStarted: looksLikePath => AuthorityNormalizerLog.RewriteStarted(_logger, context.ConnectionId, looksLikePath),
            onAbort: error =>
            {
                AuthorityNormalizerLog.Aborted(_logger, context.ConnectionId, error);
                context.Abort(error as ConnectionAbortedException ?? new ConnectionAbortedException(error.Message, error));
            },
            onBlockRefused: bound => AuthorityNormalizerLog.BlockRefused(_logger, context.ConnectionId, bound));

        Task pump = normalizer.RunAsync();
        context.Transport = new DuplexPipe(pipe.Reader, transport.Output);
        try
        {
            await _next(context).ConfigureAwait(false);
        }
        finally
        {
            // Stop the pump: no one reads its output any more, and a pending read of the transport ends.
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            transport.Input.CancelPendingRead();
            await pump.ConfigureAwait(false);
            context.Transport = transport;
        }
    }
}
