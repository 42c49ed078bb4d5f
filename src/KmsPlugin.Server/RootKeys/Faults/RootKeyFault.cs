using System.Globalization;

namespace KmsPlugin.Server.RootKeys.Faults;

/// <summary>The fault injected into one root-key operation (wrap or unwrap).</summary>
internal sealed record RootKeyFault
{
    private RootKeyFault(RootKeyFaultMode mode, TimeSpan delay = default, int every = 0)
    {
        Mode = mode;
        Delay = delay;
        Every = every;
    }

    public static RootKeyFault None { get; } = new(RootKeyFaultMode.None);

    public static RootKeyFault Fail { get; } = new(RootKeyFaultMode.Fail);

    public static RootKeyFault Hang { get; } = new(RootKeyFaultMode.Hang);

    public RootKeyFaultMode Mode { get; }

    /// <summary>For <see cref="RootKeyFaultMode.Slow"/>.</summary>
    public TimeSpan Delay { get; }

    /// <summary>For <see cref="RootKeyFaultMode.FailEvery"/>: the k of "every k-th call".</summary>
    public int Every { get; }

    public static RootKeyFault Slow(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(delay, TimeSpan.Zero);
        return new RootKeyFault(RootKeyFaultMode.Slow, delay);
    }

    public static RootKeyFault FailEvery(int every)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        return new RootKeyFault(RootKeyFaultMode.FailEvery, every: every);
    }

    /// <summary>The same words <see cref="RootKeyFaults.Parse"/> reads: off, fail, hang, slow:250ms, fail-every:3.</summary>
    public override string ToString() => Mode switch
    {
        RootKeyFaultMode.None => "off",
        RootKeyFaultMode.Fail => "fail",
        RootKeyFaultMode.Hang => "hang",
        RootKeyFaultMode.Slow => string.Create(CultureInfo.InvariantCulture, $"slow:{(long)Delay.TotalMilliseconds}ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"fail-every:{Every}"),
    };
}
