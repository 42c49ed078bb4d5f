using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Keystore;

using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.RootKeys.Keystore;

/// <summary>
/// Keystore verbs. None deletes a key: `retire` disables one (reversible with `enable`), so a
/// mistaken command can never make data unreadable for good.
/// </summary>
internal static class KeystoreCommand
{
    public static Command Create()
    {
        var command = new Command("keystore", "Manage the software root keys (KEKs) in a keystore file");
        command.Subcommands.Add(Verb("init", "Create a keystore with one primary root key", withExpiry: true, run: (path, passphrase, _, expiry) =>
        {
            using var keystore = KeystoreFile.Create(path, passphrase, primaryExpiresAt: expiry);
            return [keystore.PrimaryKey];
        }));
        command.Subcommands.Add(Verb("list", "List the root keys (never their material)", withExpiry: false, run: (path, passphrase, _, _) =>
        {
            using var keystore = KeystoreFile.Load(path, passphrase);
            return keystore.ListKeys();
        }));
        command.Subcommands.Add(Verb("add", "Add a new decrypt-only root key; promote it once every node has the keystore", withExpiry: true, run: (path, passphrase, _, expiry) =>
        {
            using var keystore = KeystoreFile.Load(path, passphrase);
            return [keystore.AddKey(expiry)];
        }));
        command.Subcommands.Add(IdVerb("promote", "Make a root key primary; the old primary becomes decrypt-only", (k, id) => k.Promote(id)));
        command.Subcommands.Add(IdVerb("retire", "Disable a decrypt-only root key (kept, refused for every use)", (k, id) => k.Retire(id)));
        command.Subcommands.Add(IdVerb("enable", "Turn a disabled root key back into a decrypt-only one", (k, id) => k.Enable(id)));
        command.Subcommands.Add(RollbackVerb());
        command.Subcommands.Add(KeystoreCopyCommands.Export());
        command.Subcommands.Add(KeystoreCopyCommands.Verify());
        return command;
    }

    // Running plugins refuse an older copy of the keystore; this marks the copy as a deliberate step back.
    private static Command RollbackVerb()
    {
        var generation = new Argument<string>("running-generation") { Description = "The running plugins' promotion generation, as their refusal names it" };
        return Verb("rollback", "Accept this (older) keystore on purpose: raise its promotion generation above the running plugins' one", withExpiry: false, generation, (path, passphrase, parse, _) =>
        {
            var text = parse.GetValue(generation)!;
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var running) || running is < 1 or >= long.MaxValue)
            {
                throw new ArgumentException($"running generation \"{text}\" is not a whole number of at least 1");
            }

            using var keystore = KeystoreFile.Load(path, passphrase);
            keystore.Rollback(running);
            return keystore.ListKeys();
        });
    }

    private static Command IdVerb(string name, string description, Func<KeystoreFile, string, KeystoreKeyInfo> change)
    {
        var id = new Argument<string>("id") { Description = "Root key id, as `keystore list` shows it" };
        var command = Verb(name, description, withExpiry: false, id, (path, passphrase, parse, _) =>
        {
            using var keystore = KeystoreFile.Load(path, passphrase);
            change(keystore, parse.GetValue(id)!);
            return keystore.ListKeys();
        });
        return command;
    }

    private static Command Verb(string name, string description, bool withExpiry, Func<string, byte[], ParseResult, DateTimeOffset?, IReadOnlyList<KeystoreKeyInfo>> run) =>
        Verb(name, description, withExpiry, null, run);

    private static Command Verb(string name, string description, bool withExpiry, Argument<string>? argument, Func<string, byte[], ParseResult, DateTimeOffset?, IReadOnlyList<KeystoreKeyInfo>> run)
    {
        var keystore = new KeystoreVerbOptions();
        var json = new Option<bool>("--json") { Description = "Print the keys as JSON" };
        var expires = new Option<string?>("--expires") { Description = "Expiry of the new key, ISO 8601 (e.g. 2027-06-30T00:00:00Z)" };
        var command = new Command(name, description) { json };
        keystore.AddTo(command);
        if (argument is not null)
        {
            command.Arguments.Add(argument);
        }

        if (withExpiry)
        {
            command.Options.Add(expires);
        }

        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var problems = new List<string>();
            var (path, passphraseFile) = keystore.Read(parse, problems);
            if (path is null)
            {
                problems.Add($"give --keystore (or {EnvironmentVariables.Keystore})");
            }

            DateTimeOffset? expiry = null;
            if (parse.GetValue(expires) is { } text)
            {
                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                {
                    expiry = parsed.ToUniversalTime();
                }
                else
                {
                    problems.Add($"--expires {text}: not an ISO 8601 time such as 2027-06-30T00:00:00Z");
                }
            }

            var passphrase = KeystoreSettings.Passphrase.Read(passphraseFile, "--passphrase-file", problems);
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    error.WriteLine($"kms-plugin keystore {name}: {problem}");
                }

                return 2;
            }

            try
            {
                var keys = run(Path.GetFullPath(path!), passphrase!, parse, expiry);
                Print(output, keys, parse.GetValue(json));
                return 0;
            }
            catch (Exception ex) when (ex is KmsException or InvalidOperationException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"kms-plugin keystore {name}: {ex.Message}");
                return 1;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(passphrase);
            }
        });
        return command;
    }

    private static void Print(TextWriter output, IReadOnlyList<KeystoreKeyInfo> keys, bool json)
    {
        if (json)
        {
            // JSON nodes rather than reflection over anonymous types, so the NativeAOT build can print it.
            output.WriteLine(new JsonArray([.. keys.Select(k => new JsonObject
            {
                ["id"] = k.Id,
                ["state"] = KeyStateText.Of(k.State),
                ["created"] = k.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
                ["expires"] = k.ExpiresAt?.ToString("O", CultureInfo.InvariantCulture),
            })]).ToJsonString());
            return;
        }

        output.WriteLine($"{"ID",-26} {"STATE",-13} {"CREATED",-21} EXPIRES");
        foreach (var key in keys)
        {
            output.WriteLine($"{key.Id,-26} {KeyStateText.Of(key.State),-13} {key.CreatedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}  {(key.ExpiresAt is { } e ? e.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : "-")}");
        }
    }

}
