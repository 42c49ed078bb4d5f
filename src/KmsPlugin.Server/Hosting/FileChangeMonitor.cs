using System.Security.Cryptography;
using KmsPlugin.Server.Observability;

namespace KmsPlugin.Server.Hosting;

/// <summary>
/// Calls back when one of a few files changes: a watcher on each file's directory, and for a file
/// whose watcher cannot be made or fails later (inotify limit reached, directory unreadable or
/// gone) a poll of its content instead. A watcher problem is logged and never stops the plugin.
/// </summary>
internal sealed partial class FileChangeMonitor : IDisposable
{
    private readonly Action _changed;
    private readonly ILogger _logger;
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly Dictionary<string, string> _polled = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly Timer _timer;

    public FileChangeMonitor(IReadOnlyList<string> files, TimeSpan pollInterval, Action changed, ILogger logger)
    {
        _changed = changed;
        _logger = logger;
        Files = files;
        _timer = new Timer(_ => Poll(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        foreach (var file in files)
        {
            TryWatch(file);
        }

        _timer.Change(pollInterval, pollInterval);
    }

    public IReadOnlyList<string> Files { get; }

    public void Dispose()
    {
        _timer.Dispose();
        lock (_lock)
        {
            _watchers.ForEach(w => w.Dispose());
            _watchers.Clear();
        }
    }

    private void TryWatch(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        FileSystemWatcher? watcher = null;
        try
        {
            watcher = Watch(path, directory);
            lock (_lock)
            {
                _watchers.Add(watcher);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException or System.ComponentModel.Win32Exception)
        {
            watcher?.Dispose();
            FallBackToPolling(path, Directory.Exists(directory) ? ex.Message : "the directory does not exist");
        }
    }

    // The whole directory is watched: a Kubernetes ConfigMap or Secret volume updates its files by
    // swapping a "..data" symlink, so no event ever names the file itself.
    private FileSystemWatcher Watch(string path, string directory)
    {
        var name = Path.GetFileName(path);
        var watcher = new FileSystemWatcher(directory)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        void OnEvent(object sender, FileSystemEventArgs e)
        {
            if (e.Name == name || e.Name?.StartsWith("..", StringComparison.Ordinal) == true || (e is RenamedEventArgs r && r.OldName == name))
            {
                _changed();
            }
        }

        watcher.Changed += OnEvent;
        watcher.Created += OnEvent;
        watcher.Renamed += OnEvent;
        watcher.Error += (_, e) =>
        {
            FallBackToPolling(path, e.GetException().Message);
            _changed();
        };
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    private void FallBackToPolling(string path, string reason)
    {
        lock (_lock)
        {
            if (!_polled.TryAdd(path, Fingerprint(path)))
            {
                return;
            }
        }

        LogPolling(_logger, path, reason);
    }

    private void Poll()
    {
        var changed = false;
        lock (_lock)
        {
            foreach (var path in _polled.Keys.ToList())
            {
                var now = Fingerprint(path);
                changed |= now != _polled[path];
                _polled[path] = now;
            }
        }

        if (changed)
        {
            _changed();
        }
    }

    // The content, not the times: a ConfigMap swap or a copy that keeps the mtime still shows.
    private static string Fingerprint(string path)
    {
        try
        {
            return Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unreadable: " + ex.GetType().Name;
        }
    }

    [LoggerMessage(EventId = LogEvents.FileWatchPolling, EventName = nameof(LogEvents.FileWatchPolling), Level = LogLevel.Warning, Message = "cannot watch {Path} for changes ({Reason}); polling it instead. SIGHUP still reloads at once")]
    private static partial void LogPolling(ILogger logger, string path, string reason);
}
