using System.Collections.Concurrent;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>Every log line the plugin writes, with its scopes, for assertions.</summary>
internal sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<Entry> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<Entry> Entries => _entries.ToArray();

    public void Configure(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddProvider(this);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    internal sealed record Entry(string Category, LogLevel Level, string Message, IReadOnlyList<string> Scopes, Exception? Exception)
    {
        public override string ToString() => $"{Level} {Category}: {Message} [{string.Join(" | ", Scopes)}]";
    }

    private sealed class Logger(string category, CapturedLogs owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new List<string>();
            owner._scopes.ForEachScope((scope, list) => list.Add(scope?.ToString() ?? ""), scopes);
            owner._entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), scopes, exception));
        }
    }
}
