using System.Collections.Concurrent;
using Prometheus;

namespace KmsPlugin.Server.Observability;

/// <summary>
/// Counts and times every KMS call by API, operation and resulting gRPC status. Each method's
/// series are looked up once and kept: a label lookup per call was a visible share of the hot path.
/// </summary>
internal sealed class CallMetrics
{
    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Gauge _inFlight;
    private readonly ConcurrentDictionary<string, MethodCallSeries> _byMethod = new(StringComparer.Ordinal);
    private readonly Func<string, MethodCallSeries> _create;

    public CallMetrics(Counter requests, Histogram duration, Gauge inFlight)
    {
        _requests = requests;
        _duration = duration;
        _inFlight = inFlight;
        _create = Create;
    }

    /// <summary>Marks a call to <paramref name="method"/> in flight; the caller finishes it once, with the status it answered.</summary>
    public MethodCall Start(string method) => _byMethod.GetOrAdd(method, _create).Start();

    private MethodCallSeries Create(string method)
    {
        var (api, operation) = Split(method);
        return new MethodCallSeries(api, operation, _requests, _duration.WithLabels(api, operation), _inFlight.WithLabels(api, operation));
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
