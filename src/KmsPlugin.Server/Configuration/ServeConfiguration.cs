using KmsPlugin.Core.Envelope;

using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.RootKeys;

namespace KmsPlugin.Server.Configuration;

/// <summary>
/// The `serve` settings after flags, variables, config file and defaults were merged and every value
/// checked, in one place. Secrets are not part of it: they are read from their files when needed.
/// </summary>
internal sealed record ServeConfiguration
{
    /// <summary>Every setting as resolved, by config key, with its origin (for reload comparisons and messages).</summary>
    public required IReadOnlyDictionary<string, ConfigValue> Values { get; init; }

    /// <summary>The host's options as the settings give them; the caller adds what is not a setting (reload, fault file).</summary>
    public required PluginHostOptions Host { get; init; }

    public required string Provider { get; init; }

    public bool Dev { get; init; }

    /// <summary>The root-key module that <see cref="Provider"/> and <see cref="Dev"/> select.</summary>
    public required IRootKeyModule RootKeys { get; init; }

    /// <summary>Each module's own settings as it read them (<see cref="IRootKeyModule.ReadSettings"/>).</summary>
    public required IReadOnlyDictionary<IRootKeyModule, object> RootKeySettingsByModule { get; init; }

    /// <summary>Merges and checks every setting, adding each problem to <paramref name="problems"/>.</summary>
    public static ServeConfiguration Resolve(SettingSources sources, List<string> problems)
    {
        var values = sources.ResolveAll();
        var parse = new SettingParser(problems);
        ConfigValue Value(ServeSetting setting) => values[setting.Key];

        var envelope = new EnvelopeOptions
        {
            DataKeyCacheCapacity = (int)parse.WholeNumber(Value(ServeSettings.DataKeyCacheSize), int.MaxValue),
            RootKeyCallTimeout = parse.Duration(Value(ServeSettings.RootKeyTimeout)),
            Rotation = new DataEncryptionKeyRotationPolicy
            {
                MaxUses = parse.WholeNumber(Value(ServeSettings.DataKeyMaxUses), long.MaxValue),
                MaxAge = parse.Duration(Value(ServeSettings.DataKeyMaxAge)),
            },
        };
        problems.AddRange(envelope.Validate());

        var provider = parse.OneOf(Value(RootKeyModules.Provider), [.. RootKeyModules.ProviderNames]);
        var dev = parse.Switch(Value(RootKeyModules.Dev));
        if (dev && provider != RootKeyModules.Provider.Default)
        {
            problems.Add($"{RootKeyModules.Dev.Flag} uses an in-memory software key; it cannot be combined with {RootKeyModules.Provider.Flag} {provider}");
        }

        var rootKeySettings = RootKeyModules.All.ToDictionary(m => m, m => m.ReadSettings(Value, parse));

        return new ServeConfiguration
        {
            Values = values,
            Host = new PluginHostOptions
            {
                SocketPath = parse.FullPath(Value(ServeSettings.Socket)) ?? CommonOptions.DefaultSocket,
                SocketMode = parse.Mode(Value(ServeSettings.SocketMode)),
                LogLevel = parse.Enum<LogLevel>(Value(ServeSettings.LogLevel)),
                ShutdownGrace = parse.Duration(Value(ServeSettings.ShutdownGrace)),
                HealthEndpoint = parse.Endpoint(Value(ServeSettings.HealthAddress)),
                ExpiryWarning = parse.Duration(Value(ServeSettings.ExpiryWarning)),
                Envelope = envelope,
            },
            Provider = provider,
            Dev = dev,
            RootKeys = RootKeyModules.Select(provider, dev),
            RootKeySettingsByModule = rootKeySettings,
        };
    }

    /// <summary>The settings <paramref name="module"/> read.</summary>
    public T RootKeySettings<T>(IRootKeyModule module) => (T)RootKeySettingsByModule[module];

    /// <summary>The settings that differ from <paramref name="running"/> and only a restart applies.</summary>
    public IEnumerable<(ServeSetting Setting, ConfigValue Running, ConfigValue Wanted)> RestartOnlyChanges(ServeConfiguration running) =>
        ServeSettings.All
            .Where(s => !s.RuntimeChangeable && !Values[s.Key].SameValueAs(running.Values[s.Key]))
            .Select(s => (s, running.Values[s.Key], Values[s.Key]));
}
