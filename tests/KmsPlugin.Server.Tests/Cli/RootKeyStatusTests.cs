using System.Text.Json;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Cli;

/// <summary>
/// `status --json` on two nodes: the same keystore shows the same key check values, another keystore
/// does not. Real plugin processes on real sockets, as an operator compares control-plane nodes.
/// </summary>
public sealed class RootKeyStatusTests : IDisposable
{
    // status's per-call deadline (default 3s) is kube-apiserver's; a shared, loaded test machine needs more.
    private static readonly string[] Timeout = ["--timeout", "30s"];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Two_nodes_on_the_same_keystore_show_the_same_check_values_and_another_keystore_differs()
    {
        using var nodeA = new KeystoreFiles("same passphrase");
        await nodeA.CliAsync("keystore", "init");
        await nodeA.CliAsync("keystore", "add");
        using var nodeB = new KeystoreFiles("same passphrase");
        File.Copy(nodeA.Keystore, nodeB.Keystore);
        File.SetUnixFileMode(nodeB.Keystore, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var other = new KeystoreFiles("other passphrase");
        await other.CliAsync("keystore", "init");

        var a = await StatusJsonAsync(nodeA, "a.sock");
        var b = await StatusJsonAsync(nodeB, "b.sock");
        var c = await StatusJsonAsync(other, "c.sock");

        Assert.True(a.GetProperty("healthy").GetBoolean());
        Assert.Equal("software", a.GetProperty("provider").GetString());
        var keysA = Keys(a);
        Assert.Equal(2, keysA.Count);
        Assert.Equal(("primary", 1L), (keysA[0].Role, keysA[0].Generation));
        Assert.Equal(("decrypt-only", (long?)null), (keysA[1].Role, keysA[1].Generation));
        Assert.All(keysA, k => Assert.Matches("^[0-9a-f]{16}$", k.Kcv));
        Assert.NotEqual(keysA[0].Kcv, keysA[1].Kcv);

        Assert.Equal(keysA, Keys(b));
        Assert.DoesNotContain(Keys(c)[0].Kcv, keysA.Select(k => k.Kcv));
    }

    [Fact]
    public async Task The_text_output_lists_every_root_key_with_its_check_value()
    {
        using var keystore = new KeystoreFiles("passphrase");
        await keystore.CliAsync("keystore", "init", "--expires", "2099-01-01T00:00:00Z");
        var socket = _dir.File("text.sock");
        await using var plugin = await PluginProcess.StartAsync(socket, null, keystore.Args);

        var json = JsonDocument.Parse((await PluginProcess.RunCliAsync(null, ["status", "--socket", socket, "--json", .. Timeout])).Output).RootElement;
        var key = Keys(json).Single();
        var text = await PluginProcess.RunCliAsync(null, ["status", "--socket", socket, .. Timeout]);

        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("root keys (software):", text.Output);
        Assert.Matches($@"\n  {key.Id} +primary +1 +2099-01-01T00:00:00Z +{key.Kcv}\n", text.Output);
        Assert.Equal("2099-01-01T00:00:00Z", json.GetProperty("rootKeys")[0].GetProperty("expiresAt").GetString());
    }

    [Fact]
    public async Task Status_lists_the_root_keys_with_fault_injection_on()
    {
        using var keystore = new KeystoreFiles("passphrase");
        await keystore.CliAsync("keystore", "init");
        var faults = _dir.File("faults");
        await File.WriteAllTextAsync(faults, "");
        var socket = _dir.File("faults.sock");
        await using var plugin = await PluginProcess.StartAsync(socket, null, [.. keystore.Args, "--diagnostics-faults-file", faults]);

        var status = await PluginProcess.RunCliAsync(null, ["status", "--socket", socket, "--json", .. Timeout]);

        Assert.True(status.ExitCode == 0, status + plugin.Log);
        var key = Keys(JsonDocument.Parse(status.Output).RootElement).Single();
        Assert.Equal("primary", key.Role);
        Assert.Matches("^[0-9a-f]{16}$", key.Kcv);
    }

    private async Task<JsonElement> StatusJsonAsync(KeystoreFiles keystore, string socketName)
    {
        var socket = _dir.File(socketName);
        await using var plugin = await PluginProcess.StartAsync(socket, null, keystore.Args);
        var status = await PluginProcess.RunCliAsync(null, ["status", "--socket", socket, "--json", .. Timeout]);
        Assert.True(status.ExitCode == 0, status + plugin.Log);

        // stdout is exactly one JSON document; the human-readable steps are left out.
        return JsonDocument.Parse(status.Output).RootElement;
    }

    private static List<(string Id, string Role, long? Generation, string Kcv)> Keys(JsonElement status) =>
        status.GetProperty("rootKeys").EnumerateArray()
            .Select(k => (
                k.GetProperty("id").GetString()!,
                k.GetProperty("role").GetString()!,
                k.GetProperty("generation").ValueKind == JsonValueKind.Null ? (long?)null : k.GetProperty("generation").GetInt64(),
                k.GetProperty("keyCheckValue").GetString()!))
            .ToList();
}
