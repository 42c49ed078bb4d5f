using KmsPlugin.RootKeys.Pkcs11;

namespace KmsPlugin.Server.Cli;

/// <summary>The `serve --provider pkcs11` flags as parsed, before any check. The PIN is read separately.</summary>
internal sealed record Pkcs11Settings
{
    public string? ModulePath { get; init; }

    public string? TokenLabel { get; init; }

    public string? TokenSerial { get; init; }

    public string? PinFile { get; init; }

    public string? KeyLabel { get; init; }

    public IReadOnlyList<string> DecryptKeyLabels { get; init; } = [];

    public int MaxSessions { get; init; } = Pkcs11ProviderOptions.DefaultMaxSessions;

    public TimeSpan CallTimeout { get; init; } = Pkcs11ProviderOptions.DefaultCallTimeout;
}
