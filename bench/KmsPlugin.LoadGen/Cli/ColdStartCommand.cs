using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using KmsPlugin.LoadGen.ColdStart;

namespace KmsPlugin.LoadGen.Cli;

/// <summary><c>coldstart encrypt</c> and <c>coldstart decrypt</c>: the two halves around a server restart.</summary>
internal static class ColdStartCommand
{
    public static Command Create()
    {
        var command = new Command("coldstart", "kube-apiserver's start-up: encrypt N distinct 32-byte DEKs; restart the server; decrypt them all");
        command.Subcommands.Add(Phase("encrypt"));
        command.Subcommands.Add(Phase("decrypt"));
        return command;
    }

    private static Command Phase(string phase)
    {
        var socket = CommonOptions.Socket();
        var api = CommonOptions.Api();
        var authority = CommonOptions.Authority();
        var concurrency = CommonOptions.Concurrency(16);
        var timeout = CommonOptions.Timeout();
        var output = CommonOptions.Output();
        var target = new Option<string>("--target") { Description = "Name of the server in the results", DefaultValueFactory = _ => "server" };
        var file = new Option<string>("--file") { Description = "Ciphertext file written by encrypt, read by decrypt", Required = true };
        var count = new Option<int>("--count") { Description = "Distinct DEKs to encrypt", DefaultValueFactory = _ => 10_000 };
        var command = phase == "encrypt"
            ? new Command("encrypt", "Encrypt --count distinct 32-byte DEKs and store the ciphertexts in --file") { socket, api, count }
            : new Command("decrypt", "Decrypt every ciphertext in --file (the API is the one it was encrypted with)") { socket };
        foreach (var option in new Option[] { authority, concurrency, timeout, file, target, output })
        {
            command.Options.Add(option);
        }

        command.SetAction(async parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            if (!DurationText.TryParse(parse.GetValue(timeout)!, out var deadline) || deadline <= TimeSpan.Zero
                || parse.GetValue(concurrency) < 1 || (phase == "encrypt" && parse.GetValue(count) < 1))
            {
                await error.WriteLineAsync("--timeout must be a duration such as 3s; --concurrency and --count at least 1");
                return 2;
            }

            var runner = new ColdStartRunner(parse.GetValue(socket)!, parse.GetValue(target)!, CommonOptions.ParseAuthority(parse.GetValue(authority)!), deadline);
            var result = phase == "encrypt"
                ? await runner.EncryptAsync(parse.GetValue(api)!, parse.GetValue(count), parse.GetValue(concurrency), parse.GetValue(file)!)
                : await runner.DecryptAsync(parse.GetValue(concurrency), parse.GetValue(file)!);
            await parse.InvocationConfiguration.Output.WriteLineAsync(parse.GetValue(output) == "json"
                ? JsonSerializer.Serialize(result, JsonOutput.Options)
                : string.Format(CultureInfo.InvariantCulture, "{0} {1} {2}: {3} calls with {4} callers in {5:F3} s = {6:F0} calls/s; p50 {7:F3} ms, p99 {8:F3} ms, max {9:F3} ms; {10} errors; server RSS {11:F1} MiB",
                    result.Target, result.Api, result.Phase, result.Count, result.Concurrency, result.Seconds, result.CallsPerSecond, result.P50Ms, result.P99Ms, result.MaxMs, result.Errors, result.ServerRssMib));
            if (result.Errors > 0)
            {
                await error.WriteLineAsync($"{result.Errors} calls failed; first: {result.FirstError}");
                return 1;
            }

            return 0;
        });
        return command;
    }
}
