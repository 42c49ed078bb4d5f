using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using KmsPlugin.LoadGen.Host;
using KmsPlugin.LoadGen.Transport;

namespace KmsPlugin.LoadGen.Load;

/// <summary>
/// Drives one server at each concurrency level in turn over the same connections: per level,
/// fresh callers build their requests, warm up, then run the measured window.
/// </summary>
internal sealed class LoadRunner(LoadSettings settings)
{
    /// <summary>Distinct plaintexts (and their ciphertexts) per caller, reused in turn.</summary>
    private const int Slots = 16;

    /// <summary>
    /// Deadline of the unmeasured set-up calls: a server that just started compiles its call path
    /// on the first calls, which on a busy machine can take longer than kube-apiserver's 3 s.
    /// </summary>
    public static readonly TimeSpan SetupTimeout = TimeSpan.FromSeconds(30);

    public async Task RunAsync(Func<LoadResult, Task> report, CancellationToken cancellationToken)
    {
        var channels = new GrpcChannel[settings.Connections];
        try
        {
            for (int i = 0; i < channels.Length; i++)
            {
                channels[i] = KmsChannel.Create(settings.Socket, settings.Authority);
            }

            var invokers = channels.Select(c => c.CreateCallInvoker()).ToArray();
            string keyId = "";
            foreach (var invoker in invokers)
            {
                // What kube-apiserver requires before it uses a server; it also opens each connection.
                if (settings.Api == "v1")
                {
                    await V1Calls.CheckVersionAsync(invoker, SetupTimeout, cancellationToken);
                }
                else
                {
                    keyId = await V2Calls.CheckStatusAsync(invoker, SetupTimeout, cancellationToken);
                }
            }

            int pid = settings.ServerPid ?? SocketPeer.ProcessId(settings.Socket);
            foreach (int concurrency in settings.Concurrency)
            {
                await report(await RunLevelAsync(invokers, keyId, concurrency, pid, cancellationToken));
            }
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel?.Dispose();
            }
        }
    }

    private async Task<LoadResult> RunLevelAsync(CallInvoker[] invokers, string keyId, int concurrency, int pid, CancellationToken cancellationToken)
    {
        var workers = new LoadWorker[concurrency];
        var prepared = new Task[concurrency];
        for (int w = 0; w < concurrency; w++)
        {
            var invoker = invokers[w % invokers.Length];
            IKmsCalls calls = settings.Api == "v1"
                ? new V1Calls(invoker, Slots, settings.Size, settings.Timeout)
                : new V2Calls(invoker, keyId, Slots, settings.Size, settings.Timeout);
            prepared[w] = calls.PrepareAsync(SetupTimeout, cancellationToken);
            // Callers start at different points of the mix so a 1:1 mix is 1:1 at every instant.
            workers[w] = new LoadWorker(calls, settings.Mix.Pattern, Slots, offset: w);
        }

        await Task.WhenAll(prepared);
        var clock = new LoadClock();
        var running = workers.Select(w => Task.Run(() => w.RunAsync(clock, cancellationToken), cancellationToken)).ToArray();
        await Task.Delay(settings.Warmup, cancellationToken);

        double serverCpu = ProcessStats.CpuSeconds(pid);
        double clientCpu = ProcessStats.CpuSeconds(Environment.ProcessId);
        long started = Stopwatch.GetTimestamp();
        clock.StartMeasuring();
        await Task.Delay(settings.Duration, cancellationToken);
        clock.Stop();
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        serverCpu = ProcessStats.CpuSeconds(pid) - serverCpu;
        clientCpu = ProcessStats.CpuSeconds(Environment.ProcessId) - clientCpu;
        await Task.WhenAll(running);

        var latencies = new LatencyHistogram();
        long errors = 0;
        string? firstError = null;
        foreach (var worker in workers)
        {
            latencies.Add(worker.Recorded.Latencies);
            errors += worker.Recorded.Errors;
            firstError ??= worker.Recorded.FirstError;
        }

        var (rss, peak) = ProcessStats.Memory(pid);
        return new LoadResult(
            settings.Target, settings.Api, KmsChannel.ModeName(settings.Authority),
            KmsChannel.HeaderValue(settings.Socket, settings.Authority), settings.Mix.ToString(), settings.Size, concurrency, invokers.Length,
            Math.Round(seconds, 3), latencies.Count + errors, errors, firstError, Math.Round(latencies.Count / seconds, 1),
            Units.Milliseconds(latencies.PercentileNanoseconds(0.50)), Units.Milliseconds(latencies.PercentileNanoseconds(0.90)), Units.Milliseconds(latencies.PercentileNanoseconds(0.99)), Units.Milliseconds(latencies.MaxNanoseconds),
            pid, Units.Mebibytes(rss), Units.Mebibytes(peak), Math.Round(serverCpu / seconds, 2), Math.Round(clientCpu / seconds, 2));
    }
}
