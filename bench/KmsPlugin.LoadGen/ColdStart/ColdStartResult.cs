namespace KmsPlugin.LoadGen.ColdStart;

/// <summary>
/// One phase of a cold-start run (snake_case in JSON): <c>seconds</c> runs from the first call's
/// start to the last call's end; latencies cover successful calls.
/// </summary>
internal sealed record ColdStartResult(
    string Target,
    string Api,
    string Phase,
    int Count,
    int Concurrency,
    double Seconds,
    double CallsPerSecond,
    double P50Ms,
    double P99Ms,
    double MaxMs,
    long Errors,
    string? FirstError,
    int ServerPid,
    double ServerRssMib);
