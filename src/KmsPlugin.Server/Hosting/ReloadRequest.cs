namespace KmsPlugin.Server.Hosting;

/// <summary>
/// How the running plugin picks up a changed key ring or config file without a restart: the files to
/// watch (asked again after each reload, since a reload may point at another keystore), and the
/// action that loads, checks and swaps in (returning a line for the log, e.g. the new key_id). The
/// action must leave everything running untouched when it fails; it throws
/// <see cref="ReloadRejectedException"/> for a configuration that does not pass its checks.
/// </summary>
internal sealed record ReloadRequest(Func<IReadOnlyList<string>> WatchedFiles, Func<ILogger, CancellationToken, Task<string>> ReloadAsync);
