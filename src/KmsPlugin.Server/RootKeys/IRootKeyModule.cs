using System.CommandLine;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Configuration;

namespace KmsPlugin.Server.RootKeys;

/// <summary>
/// One root-key provider as the plugin sees it: its settings, its secrets, the checks that need no
/// key material, opening it, what a reload watches and does, its CLI verbs and its start-up
/// warnings. <see cref="RootKeyModules"/> lists every module; nothing else names a provider.
/// </summary>
internal interface IRootKeyModule
{
    /// <summary>The <c>--provider</c> value that selects it, or null when a switch does (<c>--dev</c>).</summary>
    string? ProviderName { get; }

    /// <summary>The module's rows in the settings table, in table order.</summary>
    IReadOnlyList<ServeSetting> Settings { get; }

    /// <summary>The secrets it reads (files or variables, never argv).</summary>
    IReadOnlyList<SecretSource> Secrets { get; }

    /// <summary>Flags refused on argv before parsing, because they would carry a secret.</summary>
    IReadOnlyList<string> RefusedFlags { get; }

    /// <summary>How to give its secrets, for the refusal message (e.g. "the keystore passphrase with …").</summary>
    string? SecretHint { get; }

    /// <summary>Config-file keys refused as secrets, each with the setting that names the secret's file.</summary>
    IReadOnlyDictionary<string, ServeSetting> SecretConfigKeys { get; }

    /// <summary>True when <paramref name="provider"/> and <paramref name="dev"/> select this module.</summary>
    bool Selects(string provider, bool dev);

    /// <summary>Reads its rows from the resolved values (typed, each problem added); stored in <see cref="ServeConfiguration.RootKeys"/>.</summary>
    object ReadSettings(Func<ServeSetting, ConfigValue> value, SettingParser parse);

    /// <summary>False when its settings name no key material at all (no keystore path): `etcd verify` then asks which backup.</summary>
    bool Configured(ServeConfiguration settings);

    /// <summary>Checks the settings without opening anything, adding every problem; null when unusable.</summary>
    IRootKeySource? Check(ServeConfiguration settings, List<string> problems);

    /// <summary>The files a reload watches besides the config file.</summary>
    IEnumerable<string> WatchedFiles(ServeConfiguration running, IRootKeyProvider provider);

    /// <summary>Swaps the new settings into the running provider; throws and changes nothing on failure.</summary>
    string Reload(ServeConfiguration next, IRootKeyProvider provider);

    /// <summary>Extra reload checks of the new settings (e.g. a keystore path that was removed).</summary>
    void CheckReload(ServeConfiguration next, List<string> problems);

    /// <summary>Its top-level CLI command (<c>keystore …</c>, <c>pkcs11 …</c>), or null.</summary>
    Command? CreateCommand();

    /// <summary>Start-up warnings and log hooks once the host's logging exists.</summary>
    void OnStarted(IRootKeyProvider provider, ILoggerFactory loggers);

    /// <summary>Why an opened provider cannot serve yet (it keeps trying), or null when it can.</summary>
    Core.Errors.KmsException? Unavailable(IRootKeyProvider provider);
}
