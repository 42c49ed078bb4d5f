using System.Text.Json;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Performance;

/// <summary>
/// The load generator against the real servers, briefly: its JSON must be a sane report of what
/// happened. No figure is judged here (this machine is shared); scripts/measure-performance.sh measures.
/// </summary>
public sealed class LoadGeneratorTests
{
    /// <summary>Generous: a slow call on a busy machine must not fail a test that judges no timing.</summary>
    private const string Deadline = "30s";

    [Theory]
    [InlineData("v1", "socket-path")]
    [InlineData("v1", "percent-encoded")]
    [InlineData("v2", "localhost")]
    public async Task Run_against_the_plugin_process_reports_sane_results(string api, string authority)
    {
        using var directory = new TempDirectory();
        await using var plugin = await PluginProcess.StartAsync(directory.File("kms.sock"), null, "--dev");

        var levels = await RunAsync(plugin.SocketPath, api, authority);

        AssertSane(levels, api, authority, expectedPid: plugin.Id);
    }

    [Theory]
    [InlineData("v1", "socket-path")]
    [InlineData("v2", "localhost")]
    public async Task Run_against_the_grpc_go_baseline_reports_sane_results(string api, string authority)
    {
        using var directory = new TempDirectory();
        await using var baseline = await GoBaselineServer.StartAsync(directory.File("baseline.sock"));

        var levels = await RunAsync(baseline.SocketPath, api, authority);

        AssertSane(levels, api, authority, expectedPid: baseline.Id);
    }

    [Fact]
    public async Task Socket_path_authority_reaches_the_plugin_as_the_socket_path()
    {
        using var directory = new TempDirectory();
        await using var plugin = await PluginProcess.StartAsync(directory.File("kms.sock"), null, "--dev", "--log-level", "Debug");

        var levels = await LoadGenerator.RunJsonAsync("run", "--socket", plugin.SocketPath, "--api", "v1", "--authority", "socket-path",
            "--concurrency", "1", "--duration", "200ms", "--warmup", "0", "--timeout", Deadline);

        Assert.Equal(plugin.SocketPath, levels[0].GetProperty("authority_header").GetString());
        // The normalizer only rewrites an authority Kestrel would reject: proof the path went out as is.
        Assert.Contains(":authority was a socket path", plugin.Log);
    }

    [Fact]
    public async Task Percent_encoded_authority_reaches_the_plugin_as_a_socket_path_it_rewrites()
    {
        using var directory = new TempDirectory();
        await using var plugin = await PluginProcess.StartAsync(directory.File("kms.sock"), null, "--dev", "--log-level", "Debug");

        var levels = await LoadGenerator.RunJsonAsync("run", "--socket", plugin.SocketPath, "--api", "v1", "--authority", "percent-encoded",
            "--concurrency", "1", "--duration", "200ms", "--warmup", "0", "--timeout", Deadline);

        Assert.Equal("percent-encoded", levels[0].GetProperty("authority").GetString());
        Assert.Equal(plugin.SocketPath.Replace("/", "%2F", StringComparison.Ordinal), levels[0].GetProperty("authority_header").GetString());
        Assert.Equal(0, levels[0].GetProperty("errors").GetInt64());
        // The placeholder host would pass Kestrel untouched: the rewrite proves the encoded path went out.
        Assert.Contains(":authority was a socket path", plugin.Log);
    }

    [Fact]
    public async Task Coldstart_decrypts_every_key_after_a_restart_with_one_data_key_per_ciphertext()
    {
        using var keystore = new KeystoreFiles("load generator cold start");
        await keystore.CliAsync("keystore", "init");
        var socket = keystore.Directory.File("kms.sock");
        var file = keystore.Directory.File("ciphertexts.bin");

        JsonElement encrypted;
        await using (var plugin = await PluginProcess.StartAsync(socket, null, [.. keystore.Args, "--dek-max-uses", "1"]))
        {
            encrypted = await LoadGenerator.RunJsonAsync("coldstart", "encrypt", "--socket", socket, "--api", "v1", "--count", "300", "--file", file, "--timeout", Deadline);
            Assert.Equal(0, await plugin.TerminateAsync());
        }

        await using var restarted = await PluginProcess.StartAsync(socket, null, keystore.Args);
        var decrypted = await LoadGenerator.RunJsonAsync("coldstart", "decrypt", "--socket", socket, "--file", file, "--timeout", Deadline);

        foreach (var (phase, result) in new[] { ("encrypt", encrypted), ("decrypt", decrypted) })
        {
            Assert.Equal(phase, result.GetProperty("phase").GetString());
            Assert.Equal(300, result.GetProperty("count").GetInt32());
            Assert.Equal(0, result.GetProperty("errors").GetInt64());
            Assert.True(result.GetProperty("calls_per_second").GetDouble() > 0);
            AssertOrdered(result, "p50_ms", "p99_ms", "max_ms");
        }

        Assert.Equal(restarted.Id, decrypted.GetProperty("server_pid").GetInt32());
        Assert.True(decrypted.GetProperty("server_rss_mib").GetDouble() > 0);
    }

    [Fact]
    public async Task Go_client_coldstart_decrypts_every_key_after_a_restart_and_reports_a_wrong_plaintext()
    {
        using var keystore = new KeystoreFiles("go client cold start");
        await keystore.CliAsync("keystore", "init");
        var socket = keystore.Directory.File("kms.sock");
        var file = keystore.Directory.File("pairs.bin");

        await using (var plugin = await PluginProcess.StartAsync(socket, null, keystore.Args))
        {
            var encrypted = await GoColdStartAsync(socket, "coldstart-encrypt", file, expectSuccess: true);
            Assert.Equal(0, encrypted.GetProperty("errors").GetInt64());
            Assert.Equal(0, await plugin.TerminateAsync());
        }

        await using var restarted = await PluginProcess.StartAsync(socket, null, keystore.Args);
        var decrypted = await GoColdStartAsync(socket, "coldstart-decrypt", file, expectSuccess: true);
        Assert.Equal(300, decrypted.GetProperty("count").GetInt32());
        Assert.Equal(0, decrypted.GetProperty("errors").GetInt64());
        AssertOrdered(decrypted, "p50_ms", "p99_ms", "max_ms");

        // The check is real: swap two plaintexts in the file and both of their Decrypts count as wrong.
        var bytes = await File.ReadAllBytesAsync(file);
        const int pairLength = 4 + 32 + 4;
        var firstCipherLength = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(36));
        var second = pairLength + firstCipherLength;
        var first = bytes.AsSpan(4, 32).ToArray();
        bytes.AsSpan(second + 4, 32).CopyTo(bytes.AsSpan(4, 32));
        first.CopyTo(bytes.AsSpan(second + 4, 32));
        await File.WriteAllBytesAsync(file, bytes);
        var swapped = await GoColdStartAsync(socket, "coldstart-decrypt", file, expectSuccess: false);
        Assert.Equal(2, swapped.GetProperty("errors").GetInt64());
    }

    private static async Task<JsonElement> GoColdStartAsync(string socket, string mode, string file, bool expectSuccess)
    {
        var result = await GoClient.RunAsync("-api", "v1", "-socket", socket, "-mode", mode, "-calls", "300", "-concurrency", "16", "-file", file, "-timeout", "30s");
        Assert.True((result.ExitCode == 0) == expectSuccess, result.ToString());
        return JsonDocument.Parse(result.Output.Trim()).RootElement.Clone();
    }

    private static Task<JsonElement> RunAsync(string socket, string api, string authority) =>
        LoadGenerator.RunJsonAsync("run", "--socket", socket, "--api", api, "--authority", authority,
            "--concurrency", "1,4", "--duration", "1s", "--warmup", "300ms", "--mix", "1:1", "--target", "under-test", "--timeout", Deadline);

    private static void AssertSane(JsonElement levels, string api, string authority, int expectedPid)
    {
        Assert.Equal([1, 4], levels.EnumerateArray().Select(l => l.GetProperty("concurrency").GetInt32()));
        foreach (var level in levels.EnumerateArray())
        {
            Assert.Equal(api, level.GetProperty("api").GetString());
            Assert.Equal(authority, level.GetProperty("authority").GetString());
            Assert.True(level.GetProperty("calls").GetInt64() > 0, level.ToString());
            Assert.Equal(0, level.GetProperty("errors").GetInt64());
            Assert.True(level.GetProperty("calls_per_second").GetDouble() > 0, level.ToString());
            AssertOrdered(level, "p50_ms", "p90_ms", "p99_ms", "max_ms");
            Assert.True(level.GetProperty("p50_ms").GetDouble() > 0, level.ToString());
            Assert.Equal(expectedPid, level.GetProperty("server_pid").GetInt32());
            Assert.True(level.GetProperty("server_rss_mib").GetDouble() > 0, level.ToString());
        }
    }

    private static void AssertOrdered(JsonElement result, params string[] percentiles)
    {
        var values = percentiles.Select(p => result.GetProperty(p).GetDouble()).ToList();
        Assert.True(values.SequenceEqual(values.Order()), $"{string.Join(" <= ", percentiles)} does not hold: {result}");
    }
}
