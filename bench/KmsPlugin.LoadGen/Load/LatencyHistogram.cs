using System.Numerics;

namespace KmsPlugin.LoadGen.Load;

/// <summary>
/// Log-linear latency buckets in nanoseconds, HdrHistogram-style: exact below 512 ns, then 256
/// buckets per power of two (0.4 % resolution). Fixed size, so recording never allocates; one
/// per worker, merged at the end. The maximum is kept exactly.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBuckets = 256;
    private const int Linear = 2 * SubBuckets;
    private const int MaxShift = 40;

    private readonly long[] _counts = new long[Linear + (MaxShift * SubBuckets)];

    public long Count { get; private set; }

    public long MaxNanoseconds { get; private set; }

    public void Record(long nanoseconds)
    {
        nanoseconds = Math.Max(0, nanoseconds);
        _counts[IndexOf(nanoseconds)]++;
        Count++;
        MaxNanoseconds = Math.Max(MaxNanoseconds, nanoseconds);
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        MaxNanoseconds = Math.Max(MaxNanoseconds, other.MaxNanoseconds);
    }

    /// <summary>Nearest-rank percentile (0 &lt; p ≤ 1), as the middle of its bucket, never above the maximum.</summary>
    public long PercentileNanoseconds(double p)
    {
        if (Count == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(p * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(MiddleOf(i), MaxNanoseconds);
            }
        }

        return MaxNanoseconds;
    }

    private static int IndexOf(long value)
    {
        if (value < Linear)
        {
            return (int)value;
        }

        int shift = Math.Min(63 - BitOperations.LeadingZeroCount((ulong)value) - 8, MaxShift);
        long top = Math.Min(value >> shift, Linear - 1);
        return Linear + ((shift - 1) * SubBuckets) + (int)(top - SubBuckets);
    }

    private static long MiddleOf(int index)
    {
        if (index < Linear)
        {
            return index;
        }

        int shift = ((index - Linear) / SubBuckets) + 1;
        long top = ((index - Linear) % SubBuckets) + SubBuckets;
        return (top << shift) + ((1L << shift) / 2);
    }
}
