using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Core.Secrets;
using KmsPlugin.RootKeys.Keystore;

using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.RootKeys.Keystore;

/// <summary>
/// `keystore export` (an escrow copy under its own passphrase) and `keystore verify` (does a copy
/// open, and which keys does it hold). Both print key ids with key check values, so two copies,
/// or a copy and the live keystore, can be compared without decrypting anything else.
/// </summary>
internal static class KeystoreCopyCommands
{
    public static Command Export()
    {
        var keystore = new KeystoreVerbOptions();
        var to = new Option<string?>("--to") { Description = "Where to write the copy (must not exist; created with mode 0600)" };
        var toPassphraseFile = new Option<string?>("--to-passphrase-file") { Description = "File holding the copy's own passphrase (for the escrow holder); no environment variable, never on the command line" };
        var json = new Option<bool>("--json") { Description = "Print the copy's keys as JSON" };
        var command = new Command("export", "Write a copy of the keystore sealed under a different passphrase (an escrow copy): same keys, ids, states and generation; the keystore itself is only read")
        {
            to, toPassphraseFile, json,
        };
        keystore.AddTo(command);
        command.SetAction(parse =>
        {
            var problems = new List<string>();
            var (keystorePath, passphraseFile) = keystore.Read(parse, problems);
            var source = Required(keystorePath, $"give --keystore (or {EnvironmentVariables.Keystore})", problems);
            var copy = Required(parse.GetValue(to), "give --to, the path of the copy", problems);
            var passphrase = KeystoreSettings.Passphrase.Read(passphraseFile, "--passphrase-file", problems);
            var copyPassphrase = ReadCopyPassphrase(parse.GetValue(toPassphraseFile), problems);
            try
            {
                return Run(parse, "export", problems, () =>
                {
                    KeystoreExport.Write(Path.GetFullPath(source!), passphrase, Path.GetFullPath(copy!), copyPassphrase);
                    return Describe(Path.GetFullPath(copy!), copyPassphrase!);
                }, json);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(passphrase);
                CryptographicOperations.ZeroMemory(copyPassphrase);
            }
        });
        return command;
    }

    public static Command Verify()
    {
        var keystore = new KeystoreVerbOptions();
        var json = new Option<bool>("--json") { Description = "Print the keys as JSON" };
        var command = new Command("verify", "Check that a keystore (or a copy of one) opens with its passphrase, and list its key ids with key check values; exit 1 when it does not open")
        {
            json,
        };
        keystore.AddTo(command);
        command.SetAction(parse =>
        {
            var problems = new List<string>();
            var (keystorePath, passphraseFile) = keystore.Read(parse, problems);
            var path = Required(keystorePath, $"give --keystore (or {EnvironmentVariables.Keystore})", problems);
            var passphrase = KeystoreSettings.Passphrase.Read(passphraseFile, "--passphrase-file", problems);
            try
            {
                return Run(parse, "verify", problems, () => Describe(Path.GetFullPath(path!), passphrase!), json);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(passphrase);
            }
        });
        return command;
    }

    /// <summary>Opens the file read-only (no lock, no write) and describes its keys with their check values.</summary>
    private static (string Path, IReadOnlyList<RootKeyDescription> Keys) Describe(string path, byte[] passphrase)
    {
        using var keystore = KeystoreFile.Load(path, passphrase);
        using var rootKeys = new KeystoreRootKeyProvider(keystore);
        return (path, rootKeys.DescribeKeys());
    }

    private static int Run(ParseResult parse, string verb, List<string> problems, Func<(string Path, IReadOnlyList<RootKeyDescription> Keys)> run, Option<bool> json)
    {
        var error = parse.InvocationConfiguration.Error;
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                error.WriteLine($"kms-plugin keystore {verb}: {problem}");
            }

            return 2;
        }

        try
        {
            var (path, keys) = run();
            Print(parse.InvocationConfiguration.Output, path, keys, parse.GetValue(json));
            return 0;
        }
        catch (Exception ex) when (ex is KmsException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"kms-plugin keystore {verb}: {ex.Message}");
            return 1;
        }
    }

    private static void Print(TextWriter output, string path, IReadOnlyList<RootKeyDescription> keys, bool json)
    {
        var generation = keys.Single(k => k.State == KeyState.Primary).Generation;
        if (json)
        {
            // JSON nodes rather than reflection over anonymous types, so the NativeAOT build can print it.
            output.WriteLine(new JsonObject
            {
                ["keystore"] = path,
                ["generation"] = generation,
                ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode?)new JsonObject { ["id"] = k.Id, ["state"] = KeyStateText.Of(k.State), ["keyCheckValue"] = k.CheckValue })]),
            }.ToJsonString());
            return;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"keystore \"{path}\" opens: {keys.Count} root keys, promotion generation {generation}"));
        output.WriteLine($"{"ID",-26} {"STATE",-13} CHECK VALUE");
        foreach (var key in keys)
        {
            output.WriteLine($"{key.Id,-26} {KeyStateText.Of(key.State),-13} {key.CheckValue}");
        }
    }

    private static string? Required(string? value, string problem, List<string> problems)
    {
        if (value is null)
        {
            problems.Add(problem);
        }

        return value;
    }

    /// <summary>Only from a file: a variable could silently be the keystore's own passphrase.</summary>
    private static byte[]? ReadCopyPassphrase(string? file, List<string> problems)
    {
        if (file is null)
        {
            problems.Add("give --to-passphrase-file, the file holding the copy's own passphrase");
            return null;
        }

        try
        {
            return SecretInput.ReadFile(file, "passphrase");
        }
        catch (KmsException ex)
        {
            problems.Add(ex.Message);
            return null;
        }
    }

}
