namespace KmsPlugin.Server.Hosting;

/// <summary>The closed set of reasons the health listener gives: no key ids, paths or error texts.</summary>
internal static class HealthReasons
{
    public const string Ok = "ok";
    public const string NotChecked = "root key not checked yet";
    public const string Unavailable = "root key unavailable";
    public const string TimedOut = "root key check timed out";
    public const string Mismatch = "root key check returned wrong bytes";
    public const string Error = "root key check error";
    public const string Stale = "root key check is stale";

    public static IReadOnlyList<string> All { get; } = [Ok, NotChecked, Unavailable, TimedOut, Mismatch, Error, Stale];
}
