using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Grpc.Core;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;

namespace KmsPlugin.Server.Tests.Hardening;

/// <summary>
/// kill -9 of the plugin, and of `keystore add` / `keystore promote`, at random points while a load
/// runs and the plugin follows the rotations from its keystore file. Nothing the plugin acknowledged
/// may become unreadable, the file must always load, and no root key may vanish or change.
/// </summary>
public sealed class CrashSafetyTests : IDisposable
{
    private const int LoadWorkers = 4;
    private const int OlderSamplePerRestart = 32;

    private readonly KeystoreFiles _files = new("crash safety passphrase");
    private readonly ITestOutputHelper _output;
    private readonly object _keysGate = new();
    private readonly Dictionary<string, byte[]> _everySeenKey = new();

    public CrashSafetyTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Kill_9_during_load_and_concurrent_rotations_loses_no_acknowledged_ciphertext_and_no_root_key()
    {
        var iterations = TestSettings.Int("KMS_PLUGIN_CRASH_ITERATIONS", 50);
        var seed = Random.Shared.Next();
        _output.WriteLine($"seed {seed}, {iterations} plugin kills");
        var random = new Random(seed);
        _files.InitAtMinimumCost();
        LoadRequiringNoKeyLost();
        var socket = _files.Directory.File("kms.sock");
        var watch = Stopwatch.StartNew();

        using var stop = new CancellationTokenSource();
        var rotations = Task.Run(() => RotateAndKillCommandsAsync(new Random(seed + 1), stop.Token));
        var acknowledged = new List<AcknowledgedCiphertext>();
        var lastEpoch = new List<AcknowledgedCiphertext>();
        for (var i = 0; i < iterations; i++)
        {
            await using var plugin = await PluginProcess.StartAsync(socket, null, _files.Args);
            LoadRequiringNoKeyLost();

            // What the last plugin acknowledged just before its kill is what a crash could lose; older ones were checked after earlier restarts.
            await AcknowledgedCiphertext.AssertAllDecryptAsync(plugin, lastEpoch);
            await AcknowledgedCiphertext.AssertAllDecryptAsync(plugin, acknowledged.OrderBy(_ => random.Next()).Take(OlderSamplePerRestart).ToList());
            acknowledged.AddRange(lastEpoch);

            // Most kills land in a running load (after its first answer); some land as the first calls arrive.
            var load = new KillableLoad(plugin);
            if (random.Next(8) != 0)
            {
                await load.FirstAnswerAsync();
                await Task.Delay(random.Next(0, 1000));
            }

            lastEpoch = await load.KillAsync();
            ThrowIfFailed(rotations);
        }

        await stop.CancelAsync();
        var counts = await rotations;
        acknowledged.AddRange(lastEpoch);
        await using (var plugin = await PluginProcess.StartAsync(socket, null, _files.Args))
        {
            await AcknowledgedCiphertext.AssertAllDecryptAsync(plugin, acknowledged);
        }

        var final = LoadRequiringNoKeyLost();
        var rootKeysUsed = acknowledged.Select(a => Core.Envelope.EnvelopeEncryptor.ReadRootKeyId(a.Ciphertext)).Distinct().Count();
        _output.WriteLine(
            $"{iterations} plugin kills, {acknowledged.Count} acknowledged ciphertexts (under {rootKeysUsed} root keys) all decrypt; " +
            $"keystore commands: {counts.Runs} run, {counts.Killed} killed ({counts.KilledAfterWrite} after their write landed, " +
            $"{counts.TempFilesLeft} temp files left, all 0600); {final.Keys.Count} root keys, none lost; {watch.Elapsed.TotalSeconds:0} s");
        Assert.True(counts.Killed > 0, "no keystore command was killed");
        Assert.True(rootKeysUsed > 1, "the plugin never followed a rotation during the load");
    }

    /// <summary>`keystore add` then `promote` of the new key, over and over; about half of the runs are killed at a random point.</summary>
    private async Task<CommandKills> RotateAndKillCommandsAsync(Random random, CancellationToken stop)
    {
        var counts = new CommandKills();
        var typical = TimeSpan.FromSeconds(1);
        while (!stop.IsCancellationRequested)
        {
            var before = KeystoreSnapshot.Load(_files);
            var add = await RunMaybeKilledAsync(["keystore", "add"], random, typical, counts);
            var afterAdd = CheckAfterCommand(before, add, counts);
            var added = afterAdd.Keys.Keys.Except(before.Keys.Keys).ToList();
            Assert.True(added.Count <= 1, $"one `keystore add` made {added.Count} keys");
            Assert.True(add.Killed || added.Count == 1, $"`keystore add` succeeded without adding a key:\n{add.Result}");
            if (add.Duration is { } addTook)
            {
                typical = addTook;
            }

            if (added.Count == 0)
            {
                continue;
            }

            var promote = await RunMaybeKilledAsync(["keystore", "promote", added[0]], random, typical, counts);
            var afterPromote = CheckAfterCommand(afterAdd, promote, counts);
            Assert.True(afterPromote.PrimaryId == afterAdd.PrimaryId || afterPromote.PrimaryId == added[0], $"primary became {afterPromote.PrimaryId}");
            Assert.True(promote.Killed || afterPromote.PrimaryId == added[0], $"`keystore promote` succeeded but the primary is {afterPromote.PrimaryId}:\n{promote.Result}");
            if (afterPromote.PrimaryId == added[0])
            {
                Assert.Equal(KeyState.DecryptOnly, afterPromote.Keys[afterAdd.PrimaryId].State);
            }
        }

        return counts;
    }

    /// <summary>The file is the old one or the new one: it loads, and keeps every key with its material.</summary>
    private KeystoreSnapshot CheckAfterCommand(KeystoreSnapshot before, CommandRun run, CommandKills counts)
    {
        var after = LoadRequiringNoKeyLost();
        Assert.Empty(before.LostIn(after));
        if (run.Killed && (after.Keys.Count != before.Keys.Count || after.PrimaryId != before.PrimaryId))
        {
            counts.KilledAfterWrite++;
        }

        foreach (var temp in Directory.EnumerateFiles(_files.Directory.Path, ".keystore.json.*.tmp"))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(temp));
            counts.TempFilesLeft++;
            File.Delete(temp);
        }

        return after;
    }

    private async Task<CommandRun> RunMaybeKilledAsync(string[] arguments, Random random, TimeSpan typical, CommandKills counts)
    {
        // Aim most kills at the end of the run, where the command writes the file.
        TimeSpan? killAfter = random.Next(2) == 0 ? typical * (0.3 + (0.8 * random.NextDouble())) : null;
        counts.Runs++;
        var watch = Stopwatch.StartNew();
        var (fileName, command) = PluginExecutable.Command([.. arguments, .. _files.Args]);
        using var process = ProcessRunner.Start(fileName, command);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        var exited = process.WaitForExitAsync();
        var killed = false;
        if (killAfter is { } delay && await Task.WhenAny(exited, Task.Delay(delay)) != exited)
        {
            process.Kill();
            killed = true;
            counts.Killed++;
        }

        await exited;
        var result = new ProcessResult(process.ExitCode, await output, await error);
        Assert.True(killed || result.ExitCode == 0, result.ToString());
        return new CommandRun(killed, killed ? null : watch.Elapsed, result);
    }

    /// <summary>
    /// Loads the file and compares it with every key seen so far. Load and compare happen under one
    /// lock: the rotation loop and the restart loop both check, and a snapshot loaded before a key
    /// was added must not be compared after another thread recorded that key.
    /// </summary>
    private KeystoreSnapshot LoadRequiringNoKeyLost()
    {
        lock (_keysGate)
        {
            var snapshot = KeystoreSnapshot.Load(_files);
            foreach (var (id, material) in _everySeenKey)
            {
                Assert.True(snapshot.Keys.TryGetValue(id, out var key), $"root key {id} is gone from the keystore");
                Assert.True(key.Material.AsSpan().SequenceEqual(material), $"root key {id} has other material now");
            }

            foreach (var key in snapshot.Keys.Values)
            {
                _everySeenKey.TryAdd(key.Id, key.Material);
            }

            return snapshot;
        }
    }

    private static void ThrowIfFailed(Task task)
    {
        if (task.IsFaulted)
        {
            task.GetAwaiter().GetResult();
        }
    }

    private sealed record CommandRun(bool Killed, TimeSpan? Duration, ProcessResult Result);

    private sealed class CommandKills
    {
        public int Runs { get; set; }

        public int Killed { get; set; }

        public int KilledAfterWrite { get; set; }

        public int TempFilesLeft { get; set; }
    }

    /// <summary>A few callers encrypting until the plugin is killed; only answers that arrived count as acknowledged.</summary>
    private sealed class KillableLoad
    {
        private readonly PluginProcess _plugin;
        private readonly ConcurrentQueue<AcknowledgedCiphertext> _acknowledged = new();
        private readonly ConcurrentQueue<RpcException> _errorsBeforeKill = new();
        private readonly Task[] _workers;
        private volatile bool _killing;

        public KillableLoad(PluginProcess plugin)
        {
            _plugin = plugin;
            _workers = Enumerable.Range(0, LoadWorkers).Select(i => Task.Run(() => RunAsync(v2First: i % 2 == 0))).ToArray();
        }

        public async Task FirstAnswerAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (_acknowledged.IsEmpty && _errorsBeforeKill.IsEmpty)
            {
                Assert.True(DateTime.UtcNow < deadline, $"no answer within 60 s:\n{_plugin.Log}");
                await Task.Delay(10);
            }
        }

        public async Task<List<AcknowledgedCiphertext>> KillAsync()
        {
            _killing = true;
            await _plugin.KillAsync();
            await Task.WhenAll(_workers);
            Assert.True(_errorsBeforeKill.IsEmpty, $"calls failed before the kill: {string.Join("; ", _errorsBeforeKill.Select(e => e.Status))}\n{_plugin.Log}");
            return [.. _acknowledged];
        }

        private async Task RunAsync(bool v2First)
        {
            var v2 = v2First;
            while (!_killing)
            {
                try
                {
                    _acknowledged.Enqueue(await AcknowledgedCiphertext.EncryptAsync(_plugin, v2, RandomNumberGenerator.GetBytes(32)));
                }
                catch (RpcException) when (_killing)
                {
                    return;
                }
                catch (RpcException e)
                {
                    _errorsBeforeKill.Enqueue(e);
                    return;
                }

                v2 = !v2;
            }
        }
    }
}
