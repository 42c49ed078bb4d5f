namespace KmsPlugin.LoadGen.Load;

/// <summary>Warm-up, then the measured window, then stop; read by every worker without locks.</summary>
internal sealed class LoadClock
{
    private volatile int _phase;

    public bool Measuring => _phase == 1;

    public bool Stopped => _phase == 2;

    public void StartMeasuring() => _phase = 1;

    public void Stop() => _phase = 2;
}
