using System.Diagnostics;
using Grpc.Core;
using Prometheus;

namespace KmsPlugin.Server.Observability;

/// <summary>One gRPC method's series: in flight, latency, and a request counter per status, made on first use.</summary>
internal sealed class MethodCallSeries
{
    private const int StatusCodes = (int)StatusCode.Unauthenticated + 1;

    private readonly string _api;
    private readonly string _operation;
    private readonly Counter _requests;
    private readonly Histogram.Child _duration;
    private readonly Gauge.Child _inFlight;
    private readonly Counter.Child?[] _byStatus = new Counter.Child?[StatusCodes];

    public MethodCallSeries(string api, string operation, Counter requests, Histogram.Child duration, Gauge.Child inFlight)
    {
        _api = api;
        _operation = operation;
        _requests = requests;
        _duration = duration;
        _inFlight = inFlight;
    }

    public MethodCall Start()
    {
        _inFlight.Inc();
        return new MethodCall(this, Stopwatch.GetTimestamp());
    }

    public void Finish(long started, StatusCode outcome)
    {
        _inFlight.Dec();
        Requests(outcome).Inc();
        _duration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private Counter.Child Requests(StatusCode outcome)
    {
        var index = (int)outcome;
        if ((uint)index >= StatusCodes)
        {
            return _requests.WithLabels(_api, _operation, outcome.ToString());
        }

        return Volatile.Read(ref _byStatus[index]) ?? (_byStatus[index] = _requests.WithLabels(_api, _operation, outcome.ToString()));
    }
}
