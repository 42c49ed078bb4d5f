using Grpc.Core;
using Grpc.Core.Interceptors;
using KmsPlugin.Core.Errors;
using KmsPlugin.Server.Observability;

namespace KmsPlugin.Server.Grpc;

/// <summary>
/// Around every call, outermost first: the log scope (gRPC method and, for KMS v2, kube-apiserver's
/// request uid, escaped) for every line written while the call runs; the call's metrics; the mapping
/// of errors to gRPC statuses (<see cref="KmsErrorMapping"/>). One interceptor and one async frame,
/// registered as a singleton: Grpc constructs an interceptor that is not in DI on every call.
/// </summary>
internal sealed class KmsCallInterceptor : Interceptor
{
    private static readonly Func<ILogger, string, string, IDisposable?> Scope =
        LoggerMessage.DefineScope<string, string>("{GrpcMethod} uid={Uid}");

    private readonly ILogger<KmsCallInterceptor> _logger;
    private readonly CallMetrics _metrics;

    public KmsCallInterceptor(ILogger<KmsCallInterceptor> logger, PluginMetrics metrics)
    {
        _logger = logger;
        _metrics = metrics.Calls;
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var method = context.Method;
        var uid = request is IHasRequestUid { Uid.Length: > 0 } withUid ? ClientText.Printable(withUid.Uid) : "-";
        using (Scope(_logger, method, uid))
        {
            var call = _metrics.Start(method);
            var outcome = StatusCode.OK;
            try
            {
                return await continuation(request, context).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                var status = KmsErrorMapping.ToRpcException(ex, context, _logger);
                outcome = status.StatusCode;
                if (ReferenceEquals(status, ex))
                {
                    throw;
                }

                throw status;
            }
            finally
            {
                call.Finish(outcome);
            }
        }
    }
}
