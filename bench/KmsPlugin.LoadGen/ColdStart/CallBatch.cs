using System.Diagnostics;
using Grpc.Core;
using KmsPlugin.LoadGen.Load;

namespace KmsPlugin.LoadGen.ColdStart;

/// <summary>
/// A fixed number of calls spread over a number of callers, each taking the next index, as
/// kube-apiserver's start-up readers do; timed from the first call's start to the last one's end.
/// </summary>
internal static class CallBatch
{
    public sealed record Outcome(double Seconds, LatencyHistogram Latencies, long Errors, string? FirstError);

    public static async Task<Outcome> RunAsync(int count, int concurrency, Func<int, Task<bool>> call, string operation)
    {
        int next = -1;
        var tallies = new WorkerTally[concurrency];
        long started = Stopwatch.GetTimestamp();
        var callers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var tally = tallies[w] = new WorkerTally();
            for (int i; (i = Interlocked.Increment(ref next)) < count;)
            {
                long start = Stopwatch.GetTimestamp();
                try
                {
                    if (await call(i))
                    {
                        tally.Latencies.Record((long)Stopwatch.GetElapsedTime(start).TotalNanoseconds);
                        continue;
                    }

                    tally.FirstError ??= $"{operation} #{i}: wrong answer";
                }
                catch (RpcException e)
                {
                    tally.FirstError ??= $"{operation} #{i}: {e.StatusCode}: {e.Status.Detail}";
                }

                tally.Errors++;
            }
        })).ToArray();
        await Task.WhenAll(callers);
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

        var latencies = new LatencyHistogram();
        foreach (var tally in tallies)
        {
            latencies.Add(tally.Latencies);
        }

        return new Outcome(seconds, latencies, tallies.Sum(t => t.Errors), tallies.Select(t => t.FirstError).FirstOrDefault(e => e is not null));
    }
}
