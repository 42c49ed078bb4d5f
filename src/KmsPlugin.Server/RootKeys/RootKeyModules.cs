using System.CommandLine;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Configuration;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.RootKeys.Faults;
using KmsPlugin.Server.RootKeys.Keystore;
using KmsPlugin.Server.RootKeys.Pkcs11;

namespace KmsPlugin.Server.RootKeys;

/// <summary>
/// Every root-key provider the plugin knows, in settings-table order. Adding one is a line in
/// <see cref="All"/> (and its selection text below); see docs/root-key-providers.md.
/// </summary>
internal static class RootKeyModules
{
    public static IReadOnlyList<IRootKeyModule> All { get; } = [new DevelopmentKeyModule(), new KeystoreModule(), new Pkcs11Module()];

    /// <summary>What wraps the serving provider, outermost last.</summary>
    public static IReadOnlyList<IRootKeyDecorator> Decorators { get; } = [new FaultInjectionDecorator()];

    public static readonly ServeSetting Provider = new("provider", "--provider", EnvironmentVariables.Provider, SettingKind.Text,
        KeystoreModule.Name, "Where the root keys live: software (a keystore file) or pkcs11 (an HSM token)");

    /// <summary><c>--dev</c>: the development key instead of the provider's.</summary>
    public static ServeSetting Dev => KeystoreSettings.Dev;

    /// <summary>How `etcd verify` is told to use a backup's root keys instead of a running plugin's.</summary>
    public const string BackupSelection = "--keystore …, or --provider pkcs11 …";

    /// <summary><see cref="BackupSelection"/> naming every file a keystore backup needs.</summary>
    public const string BackupSelectionInFull = "--keystore and --passphrase-file, or --provider pkcs11 …";

    /// <summary>The message when `etcd verify` was given root-key settings that select no backup.</summary>
    public const string NoBackupSelected = "--keystore and --passphrase-file, or --provider pkcs11 with the token's settings";

    /// <summary>The shortest form of <see cref="BackupSelection"/>, for one-line hints.</summary>
    public const string BackupSelectionShort = "--keystore or --provider pkcs11";

    /// <summary>Every module's rows, after the <c>--provider</c> row that chooses among them.</summary>
    public static IReadOnlyList<ServeSetting> Settings { get; } = [Provider, .. All.SelectMany(m => m.Settings)];

    public static IReadOnlyList<string> ProviderNames { get; } = [.. All.Select(m => m.ProviderName).OfType<string>()];

    public static IReadOnlyList<string> RefusedFlags { get; } = [.. All.SelectMany(m => m.RefusedFlags)];

    public static IReadOnlyList<string> SecretHints { get; } = [.. All.Select(m => m.SecretHint).OfType<string>()];

    public static IReadOnlyDictionary<string, ServeSetting> SecretConfigKeys { get; } = All
        .SelectMany(m => m.SecretConfigKeys)
        .ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.OrdinalIgnoreCase);

    public static IEnumerable<Command> Commands() => All.Select(m => m.CreateCommand()).OfType<Command>();

    /// <summary>The module that <paramref name="provider"/> and <paramref name="dev"/> select.</summary>
    public static IRootKeyModule Select(string provider, bool dev) => All.First(m => m.Selects(provider, dev));

    /// <summary>The provider wrapped by every <see cref="Decorators"/> entry that <paramref name="options"/> turn on.</summary>
    public static IRootKeyProvider Decorate(IRootKeyProvider provider, PluginHostOptions options, IServiceCollection services) =>
        Decorators.Aggregate(provider, (inner, decorator) => decorator.Decorate(inner, options, services));

    public static void BeforeFirstCall(IServiceProvider services)
    {
        foreach (var decorator in Decorators)
        {
            decorator.BeforeFirstCall(services);
        }
    }
}
