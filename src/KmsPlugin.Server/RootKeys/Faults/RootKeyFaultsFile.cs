using KmsPlugin.Server.Observability;
namespace KmsPlugin.Server.RootKeys.Faults;

/// <summary>
/// Drives a <see cref="FaultInjectingRootKeyProvider"/> from a file (`serve --diagnostics-faults-file`):
/// the file is re-read whenever its content changes. Content that does not parse, or a file that
/// disappears, is reported and leaves the current faults as they are.
/// </summary>
internal sealed partial class RootKeyFaultsFile : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    private readonly string _path;
    private readonly FaultInjectingRootKeyProvider _provider;
    private readonly ILogger<RootKeyFaultsFile> _logger;
    private string? _lastText;
    private string? _lastProblem;

    public RootKeyFaultsFile(string path, FaultInjectingRootKeyProvider provider, ILogger<RootKeyFaultsFile> logger)
    {
        _path = path;
        _provider = provider;
        _logger = logger;
        LogEnabled(_logger, _path);
    }

    /// <summary>Why the file cannot drive faults, or null when it can; for start-up validation.</summary>
    public static string? Check(string path)
    {
        try
        {
            RootKeyFaults.Parse(File.ReadAllText(path));
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"--diagnostics-faults-file \"{path}\": cannot be read ({ex.Message})";
        }
        catch (FormatException ex)
        {
            return $"--diagnostics-faults-file \"{path}\": {ex.Message}";
        }
    }

    /// <summary>Reads the file once now; applies its faults when its content changed since the last read.</summary>
    public void Refresh()
    {
        string text;
        try
        {
            text = File.ReadAllText(_path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Report($"cannot be read ({ex.Message})");
            return;
        }

        if (text == _lastText)
        {
            return;
        }

        _lastText = text;
        try
        {
            var faults = RootKeyFaults.Parse(text);
            _provider.Faults = faults;
            _lastProblem = null;
            LogFaults(_logger, faults.ToString(), _path);
        }
        catch (FormatException ex)
        {
            Report(ex.Message);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PollInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Refresh();
        }
    }

    private void Report(string problem)
    {
        if (problem != _lastProblem)
        {
            _lastProblem = problem;
            LogRejected(_logger, _path, problem, _provider.Faults.ToString());
        }
    }

    [LoggerMessage(EventId = LogEvents.FaultInjectionOn, EventName = nameof(LogEvents.FaultInjectionOn), Level = LogLevel.Warning, Message = "DIAGNOSTICS: ROOT-KEY FAULT INJECTION IS ON, driven by {Path}. Encrypt and Decrypt may fail or stall on purpose. Never run a cluster like this: restart without --diagnostics-faults-file")]
    private static partial void LogEnabled(ILogger logger, string path);

    [LoggerMessage(EventId = LogEvents.FaultsChanged, EventName = nameof(LogEvents.FaultsChanged), Level = LogLevel.Warning, Message = "DIAGNOSTICS: injected root-key faults now {Faults} (from {Path})")]
    private static partial void LogFaults(ILogger logger, string faults, string path);

    [LoggerMessage(EventId = LogEvents.FaultsFileRejected, EventName = nameof(LogEvents.FaultsFileRejected), Level = LogLevel.Error, Message = "DIAGNOSTICS: faults file {Path} ignored: {Problem}; faults stay {Faults}")]
    private static partial void LogRejected(ILogger logger, string path, string problem, string faults);
}
