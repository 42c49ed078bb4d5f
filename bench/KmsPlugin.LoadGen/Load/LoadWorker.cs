using System.Diagnostics;
using Grpc.Core;

namespace KmsPlugin.LoadGen.Load;

/// <summary>
/// One caller: issues calls back to back, like one kube-apiserver goroutine, and records only
/// calls that both start and finish inside the measured window.
/// </summary>
internal sealed class LoadWorker(IKmsCalls calls, bool[] pattern, int slots, int offset)
{
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    public WorkerTally Recorded { get; } = new();

    public async Task RunAsync(LoadClock clock, CancellationToken cancellationToken)
    {
        for (long i = offset; !clock.Stopped; i++)
        {
            bool encrypt = pattern[i % pattern.Length];
            int slot = (int)(i % slots);
            bool measuring = clock.Measuring;
            long start = Stopwatch.GetTimestamp();
            bool ok;
            string? error = null;
            try
            {
                ok = encrypt ? await calls.EncryptAsync(slot, cancellationToken) : await calls.DecryptAsync(slot, cancellationToken);
                if (!ok)
                {
                    error = encrypt ? "Encrypt: wrong answer (empty ciphertext or key_id unlike Status)" : "Decrypt: plaintext differs from what was encrypted";
                }
            }
            catch (RpcException e)
            {
                ok = false;
                error = $"{(encrypt ? "Encrypt" : "Decrypt")}: {e.StatusCode}: {e.Status.Detail}";
            }

            long elapsed = Stopwatch.GetTimestamp() - start;
            if (measuring && clock.Measuring)
            {
                if (ok)
                {
                    Recorded.Latencies.Record((long)(elapsed * NanosecondsPerTick));
                }
                else
                {
                    Recorded.Errors++;
                    Recorded.FirstError ??= error;
                }
            }
        }
    }
}
