using System.Globalization;
using KmsPlugin.LoadGen.Load;

namespace KmsPlugin.LoadGen.Cli;

/// <summary>The human-readable form of a load result, one line per concurrency level.</summary>
internal static class TextReport
{
    public const string Header = "target     api authority   callers    calls/s   p50 ms   p90 ms   p99 ms   max ms  errors  RSS MiB  server CPU  client CPU";

    public static string Line(LoadResult r) => string.Format(
        CultureInfo.InvariantCulture,
        "{0,-10} {1,-3} {2,-11} {3,7} {4,10:F0} {5,8:F3} {6,8:F3} {7,8:F3} {8,8:F3} {9,7} {10,8:F1} {11,11:F2} {12,11:F2}",
        r.Target, r.Api, r.Authority, r.Concurrency, r.CallsPerSecond, r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs, r.Errors, r.ServerRssMib, r.ServerCpuCores, r.ClientCpuCores);
}
