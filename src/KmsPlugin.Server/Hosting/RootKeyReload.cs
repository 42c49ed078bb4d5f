namespace KmsPlugin.Server.Hosting;

/// <summary>
/// How the running plugin picks up a changed key ring without a restart: the file to watch, and
/// the action that loads it and swaps it in (returning a line for the log, e.g. the new key_id).
/// The action must leave the running ring untouched when it fails.
/// </summary>
internal sealed record RootKeyReload(string WatchedFile, Func<CancellationToken, Task<string>> ReloadAsync);
