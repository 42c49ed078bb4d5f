using System.Globalization;
using KmsPlugin.RootKeys.Pkcs11;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Configuration;

namespace KmsPlugin.Server.RootKeys.Pkcs11;

/// <summary>The `--provider pkcs11` rows of the settings table, and their values as resolved, before any check. The PIN is read separately.</summary>
internal sealed record Pkcs11Settings
{
    public static readonly ServeSetting Module = new("pkcs11.module", "--pkcs11-module", Pkcs11EnvironmentVariables.Module, SettingKind.Text,
        null, "PKCS#11 module (.so) of the HSM, e.g. /usr/lib/softhsm/libsofthsm2.so");

    public static readonly ServeSetting Token = new("pkcs11.token", "--pkcs11-token", Pkcs11EnvironmentVariables.Token, SettingKind.Text,
        null, "Label of the token holding the root keys");

    public static readonly ServeSetting TokenSerialSetting = new("pkcs11.tokenSerial", "--pkcs11-token-serial", Pkcs11EnvironmentVariables.TokenSerial, SettingKind.Text,
        null, "Serial number of the token, when several share its label");

    public static readonly ServeSetting PinFileSetting = new("pkcs11.pinFile", "--pkcs11-pin-file", Pkcs11EnvironmentVariables.PinFile, SettingKind.Text,
        null, $"File holding the token's user PIN (or the PIN itself in {Pkcs11EnvironmentVariables.Pin}; never on the command line)");

    public static readonly ServeSetting Key = new("pkcs11.key", "--pkcs11-key", Pkcs11EnvironmentVariables.Key, SettingKind.Text,
        null, "Label of the primary AES root key on the token", RuntimeChangeable: true);

    public static readonly ServeSetting DecryptKeys = new("pkcs11.decryptKeys", "--pkcs11-decrypt-key", Pkcs11EnvironmentVariables.DecryptKeys, SettingKind.TextList,
        null, "Label of a decrypt-only AES root key (an older primary); repeat for several (the variable is comma-separated)", RuntimeChangeable: true);

    public static readonly ServeSetting MaxSessionsSetting = new("pkcs11.maxSessions", "--pkcs11-max-sessions", Pkcs11EnvironmentVariables.MaxSessions, SettingKind.WholeNumber,
        Pkcs11ProviderOptions.DefaultMaxSessions.ToString(CultureInfo.InvariantCulture), "PKCS#11 sessions open at most (one per concurrent HSM call)");

    public static readonly ServeSetting CallTimeoutSetting = new("pkcs11.callTimeout", "--pkcs11-call-timeout", Pkcs11EnvironmentVariables.CallTimeout, SettingKind.Duration,
        DurationText.Format(Pkcs11ProviderOptions.DefaultCallTimeout), "Upper bound of every HSM call (kube-apiserver gives up after 3s)");

    public static IReadOnlyList<ServeSetting> Rows { get; } =
        [Module, Token, TokenSerialSetting, PinFileSetting, Key, DecryptKeys, MaxSessionsSetting, CallTimeoutSetting];

    public static SecretSource Pin { get; } =
        new("PIN", "PKCS#11 user PIN", Pkcs11EnvironmentVariables.PinFile, Pkcs11EnvironmentVariables.Pin);

    public string? ModulePath { get; init; }

    public string? TokenLabel { get; init; }

    public string? TokenSerial { get; init; }

    public string? PinFile { get; init; }

    public string? KeyLabel { get; init; }

    public IReadOnlyList<string> DecryptKeyLabels { get; init; } = [];

    public int MaxSessions { get; init; } = Pkcs11ProviderOptions.DefaultMaxSessions;

    public TimeSpan CallTimeout { get; init; } = Pkcs11ProviderOptions.DefaultCallTimeout;

    public static Pkcs11Settings Read(Func<ServeSetting, ConfigValue> value, SettingParser parse) => new()
    {
        ModulePath = value(Module).Text,
        TokenLabel = value(Token).Text,
        TokenSerial = value(TokenSerialSetting).Text,
        PinFile = value(PinFileSetting).Text,
        KeyLabel = value(Key).Text,
        DecryptKeyLabels = value(DecryptKeys).Items,
        MaxSessions = (int)parse.WholeNumber(value(MaxSessionsSetting), 1024),
        CallTimeout = parse.Duration(value(CallTimeoutSetting)),
    };
}
