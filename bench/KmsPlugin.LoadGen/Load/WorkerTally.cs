namespace KmsPlugin.LoadGen.Load;

/// <summary>What one worker saw in the measured window: latencies of good calls, failed calls.</summary>
internal sealed class WorkerTally
{
    public LatencyHistogram Latencies { get; } = new();

    public long Errors { get; set; }

    public string? FirstError { get; set; }
}
