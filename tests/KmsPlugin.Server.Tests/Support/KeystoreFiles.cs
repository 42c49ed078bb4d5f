using KmsPlugin.RootKeys.Keystore;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>A keystore path and a 0600 passphrase file in a temp directory, as an operator sets them up.</summary>
internal sealed class KeystoreFiles : IDisposable
{
    public KeystoreFiles(string passphrase)
    {
        Passphrase = passphrase;
        Keystore = Directory.File("keystore.json");
        PassphraseFile = Directory.File("passphrase");
        File.WriteAllText(PassphraseFile, passphrase + "\n");
        File.SetUnixFileMode(PassphraseFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public TempDirectory Directory { get; } = new();

    public string Passphrase { get; }

    public string Keystore { get; }

    public string PassphraseFile { get; }

    /// <summary>The flags every keystore-backed command takes.</summary>
    public string[] Args => ["--keystore", Keystore, "--passphrase-file", PassphraseFile];

    /// <summary>Runs a `kms-plugin` command with <see cref="Args"/> appended and requires success.</summary>
    public async Task<ProcessResult> CliAsync(params string[] arguments)
    {
        var result = await PluginProcess.RunCliAsync(null, [.. arguments, .. Args]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    /// <summary>
    /// Creates the keystore in-process at OWASP's minimum Argon2id cost, which the executable accepts
    /// (`keystore init` always takes the default), for tests that load the file hundreds of times.
    /// </summary>
    public void InitAtMinimumCost() =>
        global::KmsPlugin.RootKeys.Keystore.KeystoreFile.Create(Keystore, System.Text.Encoding.UTF8.GetBytes(Passphrase), new KeystoreOptions { Kdf = KeystoreKdfParameters.Minimum }).Dispose();

    public void Dispose() => Directory.Dispose();
}
