using KmsPlugin.Server.Observability;
using Microsoft.Extensions.Logging;

namespace KmsPlugin.Server.AuthorityNormalizer;

internal static partial class AuthorityNormalizerLog
{
    [LoggerMessage(EventId = LogEvents.AuthorityRewriteStarted, EventName = nameof(LogEvents.AuthorityRewriteStarted), Level = LogLevel.Debug, Message =
        "Connection {ConnectionId}: HTTP/2 :authority was {AuthorityKind}, which Kestrel rejects; rewriting it to localhost for the rest of the connection.")]
    private static partial void RewriteStarted(ILogger logger, string connectionId, string authorityKind);

    [LoggerMessage(EventId = LogEvents.AuthorityNormalizerAborted, EventName = nameof(LogEvents.AuthorityNormalizerAborted), Level = LogLevel.Debug, Message = "Connection {ConnectionId}: authority normalizer aborted the connection.")]
    public static partial void Aborted(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(EventId = LogEvents.HeaderBlockRefused, EventName = nameof(LogEvents.HeaderBlockRefused), Level = LogLevel.Debug, Message =
        "Connection {ConnectionId}: HTTP/2 header block larger than {MaxHeaderBlockSize} bytes; closing the connection with COMPRESSION_ERROR.")]
    public static partial void BlockRefused(ILogger logger, string connectionId, int maxHeaderBlockSize);

    public static void RewriteStarted(ILogger logger, string connectionId, bool looksLikePath) =>
        RewriteStarted(logger, connectionId, looksLikePath ? "a socket path" : "not a valid host");
}
