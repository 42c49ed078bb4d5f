using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using KmsPlugin.LoadGen.Load;

namespace KmsPlugin.LoadGen.Cli;

/// <summary><c>run</c>: load against a running server at one or more concurrency levels.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var socket = CommonOptions.Socket();
        var api = CommonOptions.Api();
        var authority = CommonOptions.Authority();
        var timeout = CommonOptions.Timeout();
        var output = CommonOptions.Output();
        var target = new Option<string>("--target") { Description = "Name of the server in the results (plugin, baseline, …)", DefaultValueFactory = _ => "server" };
        var mix = new Option<string>("--mix") { Description = "Encrypt:Decrypt ratio, e.g. 1:1, 1:0, 1:9", DefaultValueFactory = _ => "1:1" };
        var size = new Option<int>("--size") { Description = "Plaintext bytes per Encrypt (kube-apiserver sends a 32-byte key)", DefaultValueFactory = _ => 32 };
        var concurrency = new Option<string>("--concurrency") { Description = "Concurrent callers: one value or a list such as 1,4,16,64", DefaultValueFactory = _ => "16" };
        var connections = new Option<int>("--connections") { Description = "HTTP/2 connections the callers share (kube-apiserver uses one)", DefaultValueFactory = _ => 1 };
        var duration = new Option<string>("--duration") { Description = "Measured window per concurrency level", DefaultValueFactory = _ => "10s" };
        var warmup = new Option<string>("--warmup") { Description = "Unmeasured warm-up before each window", DefaultValueFactory = _ => "2s" };
        var pid = new Option<int?>("--pid") { Description = "Server process for RSS and CPU (default: the socket's peer, from SO_PEERCRED)" };
        var command = new Command("run", "Drive a running KMS server over its socket and report calls/s, latency percentiles, errors, RSS")
        {
            socket, api, authority, mix, size, concurrency, connections, duration, warmup, timeout, pid, target, output,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var stdout = parse.InvocationConfiguration.Output;
            var levels = ParseLevels(parse.GetValue(concurrency)!);
            if (levels is null)
            {
                await error.WriteLineAsync("--concurrency must be positive integers separated by commas");
                return 2;
            }

            if (!OperationMix.TryParse(parse.GetValue(mix)!, out var operations))
            {
                await error.WriteLineAsync("--mix must be ENCRYPTS:DECRYPTS, e.g. 1:1");
                return 2;
            }

            if (!DurationText.TryParse(parse.GetValue(duration)!, out var window) || window <= TimeSpan.Zero
                || !DurationText.TryParse(parse.GetValue(warmup)!, out var warm)
                || !DurationText.TryParse(parse.GetValue(timeout)!, out var deadline) || deadline <= TimeSpan.Zero)
            {
                await error.WriteLineAsync("--duration, --warmup and --timeout take durations such as 500ms, 10s, 1m");
                return 2;
            }

            if (parse.GetValue(size) is < 1 or > 65536 || parse.GetValue(connections) < 1)
            {
                await error.WriteLineAsync("--size must be 1..65536 and --connections at least 1");
                return 2;
            }

            var settings = new LoadSettings(
                parse.GetValue(socket)!, parse.GetValue(target)!, parse.GetValue(api)!, operations, parse.GetValue(size), levels,
                parse.GetValue(connections), window, warm, CommonOptions.ParseAuthority(parse.GetValue(authority)!), deadline, parse.GetValue(pid));
            bool json = parse.GetValue(output) == "json";
            var results = new List<LoadResult>();
            if (!json)
            {
                await stdout.WriteLineAsync(TextReport.Header);
            }

            await new LoadRunner(settings).RunAsync(
                async result =>
                {
                    results.Add(result);
                    if (!json)
                    {
                        await stdout.WriteLineAsync(TextReport.Line(result));
                    }
                },
                cancellationToken);
            if (json)
            {
                await stdout.WriteLineAsync(JsonSerializer.Serialize(results, JsonOutput.Options));
            }

            var failed = results.FirstOrDefault(r => r.Errors > 0);
            if (failed is not null)
            {
                await error.WriteLineAsync($"{results.Sum(r => r.Errors)} calls failed; first: {failed.FirstError}");
                return 1;
            }

            return 0;
        });
        return command;
    }

    private static List<int>? ParseLevels(string text)
    {
        var levels = new List<int>();
        foreach (var part in text.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int level) || level < 1)
            {
                return null;
            }

            levels.Add(level);
        }

        return levels;
    }
}
