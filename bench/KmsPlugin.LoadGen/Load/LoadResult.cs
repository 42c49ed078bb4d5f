namespace KmsPlugin.LoadGen.Load;

/// <summary>
/// One concurrency level of a load run, as written by <c>--output json</c> (snake_case). Latencies
/// cover successful calls; calls_per_second counts successful calls over the measured window.
/// CPU figures are cores busy on average over the window (2.0 = both cores of a 2-core machine).
/// </summary>
internal sealed record LoadResult(
    string Target,
    string Api,
    string Authority,
    string AuthorityHeader,
    string Mix,
    int Size,
    int Concurrency,
    int Connections,
    double Seconds,
    long Calls,
    long Errors,
    string? FirstError,
    double CallsPerSecond,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double MaxMs,
    int ServerPid,
    double ServerRssMib,
    double ServerPeakRssMib,
    double ServerCpuCores,
    double ClientCpuCores);
