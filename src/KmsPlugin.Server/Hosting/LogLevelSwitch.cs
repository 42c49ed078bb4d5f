namespace KmsPlugin.Server.Hosting;

/// <summary>The plugin's minimum log level, read by the log filters on every call so a reload can change it.</summary>
internal sealed class LogLevelSwitch(LogLevel level)
{
    private volatile int _level = (int)level;

    public LogLevel Level
    {
        get => (LogLevel)_level;
        set => _level = (int)value;
    }
}
