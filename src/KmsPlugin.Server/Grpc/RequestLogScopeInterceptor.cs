using Grpc.Core;
using Grpc.Core.Interceptors;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.Server.Grpc;

/// <summary>
/// Puts the gRPC method and, for KMS v2, kube-apiserver's request uid in the log scope of every
/// line written while the call runs (the error interceptor's lines included). The uid is the
/// client's: escaped, so it cannot break the line.
/// </summary>
internal sealed class RequestLogScopeInterceptor : Interceptor
{
    private static readonly Func<ILogger, string, string, IDisposable?> Scope =
        LoggerMessage.DefineScope<string, string>("{GrpcMethod} uid={Uid}");

    private readonly ILogger<RequestLogScopeInterceptor> _logger;

    public RequestLogScopeInterceptor(ILogger<RequestLogScopeInterceptor> logger)
    {
        _logger = logger;
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var uid = request is IHasRequestUid { Uid.Length: > 0 } withUid ? ClientText.Printable(withUid.Uid) : "-";
        using (Scope(_logger, context.Method, uid))
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
    }
}
