using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace KmsPlugin.Server.Observability;

/// <summary>Counts and times every KMS call by API, operation and resulting gRPC status.</summary>
internal sealed class MetricsInterceptor : Interceptor
{
    private readonly PluginMetrics _metrics;

    public MetricsInterceptor(PluginMetrics metrics)
    {
        _metrics = metrics;
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var (api, operation) = Split(context.Method);
        var started = Stopwatch.GetTimestamp();
        var outcome = StatusCode.OK;
        var inFlight = _metrics.InFlight.WithLabels(api, operation);
        inFlight.Inc();
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            outcome = ex.StatusCode;
            throw;
        }
        catch
        {
            outcome = StatusCode.Internal;
            throw;
        }
        finally
        {
            inFlight.Dec();
            _metrics.Requests.WithLabels(api, operation, outcome.ToString()).Inc();
            _metrics.RequestDuration.WithLabels(api, operation).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>
    /// "/v1beta1.KeyManagementService/Encrypt" → ("v1", "Encrypt"), "/kmsplugin.v1.RootKeyService/ListRootKeys"
    /// → ("plugin", "ListRootKeys"); only the methods we bind ever get here.
    /// </summary>
    private static (string Api, string Operation) Split(string method)
    {
        var api = method.StartsWith("/v2.", StringComparison.Ordinal) ? "v2"
            : method.StartsWith("/kmsplugin.", StringComparison.Ordinal) ? "plugin"
            : "v1";
        return (api, method[(method.LastIndexOf('/') + 1)..]);
    }
}
