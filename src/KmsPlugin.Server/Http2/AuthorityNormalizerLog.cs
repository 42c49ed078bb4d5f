using Microsoft.Extensions.Logging;

namespace KmsPlugin.Server.Http2;

internal static partial class AuthorityNormalizerLog
{
    [LoggerMessage(1, LogLevel.Debug,
        "Connection {ConnectionId}: HTTP/2 :authority was {AuthorityKind}, which Kestrel rejects; rewriting it to localhost for the rest of the connection.")]
    private static partial void RewriteStarted(ILogger logger, string connectionId, string authorityKind);

    [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId}: authority normalizer aborted the connection.")]
    public static partial void Aborted(ILogger logger, string connectionId, Exception exception);

    public static void RewriteStarted(ILogger logger, string connectionId, bool looksLikePath) =>
        RewriteStarted(logger, connectionId, looksLikePath ? "a socket path" : "not a valid host");
}
