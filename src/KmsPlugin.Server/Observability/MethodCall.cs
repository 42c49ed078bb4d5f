using Grpc.Core;

namespace KmsPlugin.Server.Observability;

/// <summary>A call in flight, as <see cref="CallMetrics"/> started it.</summary>
internal readonly struct MethodCall
{
    private readonly MethodCallSeries _series;
    private readonly long _started;

    public MethodCall(MethodCallSeries series, long started)
    {
        _series = series;
        _started = started;
    }

    public void Finish(StatusCode outcome) => _series.Finish(_started, outcome);
}
