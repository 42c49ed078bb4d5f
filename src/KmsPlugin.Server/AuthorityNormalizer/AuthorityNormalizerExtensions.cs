using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsPlugin.Server.AuthorityNormalizer;

internal static class AuthorityNormalizerExtensions
{
    /// <summary>
    /// Rewrites an HTTP/2 <c>:authority</c> that Kestrel would reject (kube-apiserver's KMS v1 client
    /// sends the socket path) to <c>localhost</c> on this endpoint. Use it on the unix-socket endpoint
    /// with <see cref="HttpProtocols.Http2"/> only; connections with valid authorities pass untouched.
    /// </summary>
    public static ListenOptions UseAuthorityNormalizer(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        listenOptions.Use(next =>
        {
            ILogger logger = listenOptions.ApplicationServices?.GetService<ILoggerFactory>()?.CreateLogger(typeof(AuthorityNormalizerMiddleware))
                ?? NullLogger.Instance;
            KestrelServerLimits limits = listenOptions.KestrelServerOptions.Limits;

            // The decoder must accept the table size Kestrel advertises; the bound on what is held
            // follows Kestrel's own header limit, so the two cannot drift apart.
            var middleware = new AuthorityNormalizerMiddleware(next, logger, limits.Http2.HeaderTableSize, limits.MaxRequestHeadersTotalSize);
            return middleware.OnConnectionAsync;
        });
        return listenOptions;
    }
}
