using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Pkcs11;

using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.RootKeys.Pkcs11;

/// <summary>
/// Root keys on a PKCS#11 token: `keygen`, `promote`, `list`. None deletes a key. The PIN comes
/// from --pkcs11-pin-file (or --pin-file) or the environment, never from argv.
/// </summary>
internal static class Pkcs11Command
{
    public static Command Create()
    {
        var command = new Command("pkcs11", "Manage root keys (KEKs) on a PKCS#11 token (HSM)");
        command.Subcommands.Add(Keygen());
        command.Subcommands.Add(Promote());
        command.Subcommands.Add(List());
        return command;
    }

    private static Command Keygen()
    {
        var label = LabelOption();
        var primary = new Option<bool>("--primary")
        {
            Description = "Also record the new key as the primary (first key on a token, or a rotation in one step)",
        };
        var (command, common) = Verb("keygen", "Generate a non-extractable AES-256 root key on the token");
        command.Options.Add(label);
        command.Options.Add(primary);
        command.SetAction(parse => WithAdmin(parse, "keygen", common, requireToken: true, (admin, output) =>
        {
            var key = admin.GenerateKey(parse.GetValue(label)!, parse.GetValue(primary));
            output.WriteLine($"generated AES-256 key \"{key.Label}\" (CKA_ID {key.IdHex}, root key id {Pkcs11KeyLabel.ToKeyId(key.Label)}) on token \"{admin.TokenLabel}\"");
            if (parse.GetValue(primary))
            {
                PrintRecord(output, admin.PromotionRecord());
            }
            else
            {
                output.WriteLine("add it to every plugin as --pkcs11-decrypt-key, then make it primary with `kms-plugin pkcs11 promote`");
            }
        }));
        return command;
    }

    private static Command Promote()
    {
        var label = LabelOption();
        var (command, common) = Verb("promote", "Make a root key primary (appended to the token's promotion record); restart plugins with --pkcs11-key set to it");
        command.Options.Add(label);
        command.SetAction(parse => WithAdmin(parse, "promote", common, requireToken: true, (admin, output) =>
        {
            var record = admin.Promote(parse.GetValue(label)!);
            PrintRecord(output, record);
        }));
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print as JSON" };
        var (command, common) = Verb("list", "List tokens; with --token, also its AES keys and promotion record (never key values)");
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var configProblems = new List<string>();
            var settings = common.Read(parse, configProblems);
            var module = settings.ModulePath;
            if (module is null || configProblems.Count > 0)
            {
                foreach (var problem in module is null ? [.. configProblems, ModuleMissing] : configProblems)
                {
                    error.WriteLine($"kms-plugin pkcs11 list: {problem}");
                }

                return 2;
            }

            IReadOnlyList<Pkcs11TokenInfo> tokens;
            try
            {
                tokens = Pkcs11TokenAdmin.ListTokens(module);
            }
            catch (KmsException ex)
            {
                error.WriteLine($"kms-plugin pkcs11 list: {ex.Message}");
                return 1;
            }

            IReadOnlyList<Pkcs11KeyInfo>? keys = null;
            IReadOnlyList<string>? record = null;
            var status = 0;
            if (settings.TokenLabel is not null)
            {
                status = WithAdmin(parse, "list", common, requireToken: true, (admin, _) =>
                {
                    keys = admin.ListKeys();
                    record = admin.PromotionRecord();
                });
            }

            if (parse.GetValue(json))
            {
                // JSON nodes rather than reflection over anonymous types, so the NativeAOT build can print it.
                output.WriteLine(new JsonObject
                {
                    ["tokens"] = new JsonArray([.. tokens.Select(t => new JsonObject { ["slot"] = t.SlotId, ["label"] = t.Label, ["serial"] = t.SerialNumber, ["manufacturer"] = t.Manufacturer, ["model"] = t.Model })]),
                    ["keys"] = keys is null ? null : new JsonArray([.. keys.Select(k => new JsonObject
                    {
                        ["label"] = k.Label,
                        ["id"] = k.IdHex,
                        ["rootKeyId"] = Pkcs11KeyLabel.IsValid(k.Label) ? Pkcs11KeyLabel.ToKeyId(k.Label) : null,
                        ["encrypt"] = k.Encrypt,
                        ["decrypt"] = k.Decrypt,
                        ["sensitive"] = k.Sensitive,
                        ["extractable"] = k.Extractable,
                    })]),
                    ["primaries"] = record is null ? null : new JsonArray([.. record.Select(label => (JsonNode?)label)]),
                }.ToJsonString());
                return status;
            }

            output.WriteLine($"{"SLOT",-12} {"TOKEN",-32} {"SERIAL",-18} MODEL");
            foreach (var token in tokens.Where(t => t.Label.Length > 0))
            {
                output.WriteLine($"{token.SlotId,-12} {token.Label,-32} {token.SerialNumber,-18} {token.Manufacturer} {token.Model}");
            }

            if (keys is not null)
            {
                output.WriteLine();
                output.WriteLine($"{"LABEL",-32} {"CKA_ID",-34} {"ENCRYPT",-8} {"DECRYPT",-8} USABLE");
                foreach (var key in keys)
                {
                    var usable = key.UsableAsPrimary ? "primary or decrypt-only" : key.Decrypt && Pkcs11KeyLabel.IsValid(key.Label) ? "decrypt-only" : "no";
                    output.WriteLine($"{key.Label,-32} {key.IdHex,-34} {YesNo(key.Encrypt),-8} {YesNo(key.Decrypt),-8} {usable}");
                }

                output.WriteLine();
                PrintRecord(output, record);
            }

            return status;
        });
        return command;
    }

    private static string YesNo(bool value) => value ? "yes" : "no";

    private static void PrintRecord(TextWriter output, IReadOnlyList<string>? record)
    {
        if (record is null || record.Count == 0)
        {
            output.WriteLine("promotion record: none (a plugin serving this token reports generation 1)");
            return;
        }

        output.WriteLine($"promotion record: {string.Join(" -> ", record)}; primary \"{record[^1]}\", KMS v2 key_id {Pkcs11KeyLabel.ToKeyId(record[^1])}@{record.Count}");
    }

    private static Option<string> LabelOption() => new("--label")
    {
        Description = $"CKA_LABEL of the key: 1 to {Pkcs11KeyLabel.MaxLength} characters of A-Z a-z 0-9 . _ -",
        Required = true,
    };

    // The verbs' messages still name their flags as before the settings table served them (--module, …).
    private static string ModuleMissing => $"give --module (or {Pkcs11EnvironmentVariables.Module})";

    private static (Command Command, Pkcs11VerbOptions Options) Verb(string name, string description)
    {
        var options = new Pkcs11VerbOptions();
        var command = new Command(name, description);
        options.AddTo(command);
        return (command, options);
    }

    private static int WithAdmin(ParseResult parse, string verb, Pkcs11VerbOptions common, bool requireToken, Action<Pkcs11TokenAdmin, TextWriter> run)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var problems = new List<string>();
        var settings = common.Read(parse, problems);
        var (module, token) = (settings.ModulePath, settings.TokenLabel);
        if (module is null)
        {
            problems.Add(ModuleMissing);
        }

        if (requireToken && token is null)
        {
            problems.Add($"give --token (or {Pkcs11EnvironmentVariables.Token})");
        }

        var pin = Pkcs11Settings.Pin.Read(settings.PinFile, "--pin-file", problems);
        try
        {
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    error.WriteLine($"kms-plugin pkcs11 {verb}: {problem}");
                }

                return 2;
            }

            using var admin = Pkcs11TokenAdmin.Open(module!, token!, settings.TokenSerial, pin!);
            run(admin, output);
            return 0;
        }
        catch (KmsException ex)
        {
            error.WriteLine($"kms-plugin pkcs11 {verb}: {ex.Message}");
            return 1;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pin);
        }
    }
}
