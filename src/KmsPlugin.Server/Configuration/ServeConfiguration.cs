using System.Net;
using KmsPlugin.Core.Envelope;

using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

/// <summary>
/// The `serve` settings after flags, variables, config file and defaults were merged and every value
/// checked, in one place. Secrets are not part of it: they are read from their files when needed.
/// </summary>
internal sealed record ServeConfiguration
{
    public const string SoftwareProvider = "software";
    public const string Pkcs11Provider = "pkcs11";

    /// <summary>Every setting as resolved, by config key, with its origin (for reload comparisons and messages).</summary>
    public required IReadOnlyDictionary<string, ConfigValue> Values { get; init; }

    public required string SocketPath { get; init; }

    public UnixFileMode SocketMode { get; init; }

    public LogLevel LogLevel { get; init; }

    public TimeSpan ShutdownGrace { get; init; }

    public IPEndPoint? HealthEndpoint { get; init; }

    public TimeSpan ExpiryWarning { get; init; }

    public required EnvelopeOptions Envelope { get; init; }

    public required string Provider { get; init; }

    public bool Dev { get; init; }

    public string? KeystorePath { get; init; }

    public string? PassphraseFile { get; init; }

    public required Pkcs11Settings Pkcs11 { get; init; }

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

        var provider = parse.OneOf(Value(ServeSettings.Provider), SoftwareProvider, Pkcs11Provider);
        var dev = parse.Switch(Value(ServeSettings.Dev));
        if (dev && provider == Pkcs11Provider)
        {
            problems.Add($"{ServeSettings.Dev.Flag} uses an in-memory software key; it cannot be combined with {ServeSettings.Provider.Flag} pkcs11");
        }

        var pkcs11 = new Pkcs11Settings
        {
            ModulePath = Value(ServeSettings.Pkcs11Module).Text,
            TokenLabel = Value(ServeSettings.Pkcs11Token).Text,
            TokenSerial = Value(ServeSettings.Pkcs11TokenSerial).Text,
            PinFile = Value(ServeSettings.Pkcs11PinFile).Text,
            KeyLabel = Value(ServeSettings.Pkcs11Key).Text,
            DecryptKeyLabels = Value(ServeSettings.Pkcs11DecryptKeys).Items,
            MaxSessions = (int)parse.WholeNumber(Value(ServeSettings.Pkcs11MaxSessions), 1024),
            CallTimeout = parse.Duration(Value(ServeSettings.Pkcs11CallTimeout)),
        };

        return new ServeConfiguration
        {
            Values = values,
            SocketPath = parse.FullPath(Value(ServeSettings.Socket)) ?? CommonOptions.DefaultSocket,
            SocketMode = parse.Mode(Value(ServeSettings.SocketMode)),
            LogLevel = parse.Enum<LogLevel>(Value(ServeSettings.LogLevel)),
            ShutdownGrace = parse.Duration(Value(ServeSettings.ShutdownGrace)),
            HealthEndpoint = parse.Endpoint(Value(ServeSettings.HealthAddress)),
            ExpiryWarning = parse.Duration(Value(ServeSettings.ExpiryWarning)),
            Envelope = envelope,
            Provider = provider,
            Dev = dev,
            KeystorePath = parse.FullPath(Value(ServeSettings.Keystore)),
            PassphraseFile = Value(ServeSettings.PassphraseFile).Text,
            Pkcs11 = pkcs11,
        };
    }

    /// <summary>The settings that differ from <paramref name="running"/> and only a restart applies.</summary>
    public IEnumerable<(ServeSetting Setting, ConfigValue Running, ConfigValue Wanted)> RestartOnlyChanges(ServeConfiguration running) =>
        ServeSettings.All
            .Where(s => !s.RuntimeChangeable && !Values[s.Key].SameValueAs(running.Values[s.Key]))
            .Select(s => (s, running.Values[s.Key], Values[s.Key]));
}
