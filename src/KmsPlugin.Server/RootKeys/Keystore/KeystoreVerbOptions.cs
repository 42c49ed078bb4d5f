using System.CommandLine;
using KmsPlugin.Server.Configuration;

namespace KmsPlugin.Server.RootKeys.Keystore;

/// <summary>The keystore path and passphrase file every `keystore` verb takes: serve's rows and <c>--config</c>.</summary>
internal sealed class KeystoreVerbOptions
{
    private readonly VerbSettings _settings = new([KeystoreSettings.Keystore, KeystoreSettings.PassphraseFileSetting]);

    public void AddTo(Command command) => _settings.AddTo(command);

    /// <summary>The keystore path and passphrase file as given; problems with the config file are added.</summary>
    public (string? Path, string? PassphraseFile) Read(ParseResult parse, List<string> problems)
    {
        var sources = _settings.Resolve(parse, problems);
        return (sources.Resolve(KeystoreSettings.Keystore).Text, sources.Resolve(KeystoreSettings.PassphraseFileSetting).Text);
    }
}
