using System.Text.Json;
using KmsPlugin.Protocol.V2;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Cli;

/// <summary>
/// The static pod's plugin runs as UID 1654 while an operator runs `sudo kms-plugin keystore …`:
/// the atomic replacement must hand the new file the old one's owner, group and mode, or the
/// plugin can no longer read its own keystore.
/// </summary>
public sealed class KeystoreOwnershipTests : IDisposable
{
    private const int PluginUser = 1654;
    private readonly KeystoreFiles _files = new("ownership test passphrase");

    public KeystoreOwnershipTests()
    {
        Assert.True(IsRoot(), "this test runs the keystore verbs as root and the plugin as another user; run it as root (CI does)");
    }

    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData("600")]
    [InlineData("400")]
    public async Task Root_adds_and_promotes_and_the_plugin_running_as_another_user_reloads_the_new_key(string mode)
    {
        await _files.CliAsync("keystore", "init");
        await RunAsync("chown", "-R", $"{PluginUser}:{PluginUser}", _files.Directory.Path);
        await RunAsync("chmod", mode, _files.Keystore);
        var environment = new Dictionary<string, string> { ["HOME"] = _files.Directory.Path, ["DOTNET_CLI_HOME"] = _files.Directory.Path };
        await using var plugin = await PluginProcess.StartAsUserAsync(PluginUser, _files.Directory.File("kms.sock"), environment, _files.Args);
        Assert.Equal($"{PluginUser}:{PluginUser}", await RunAsync("stat", "-c", "%u:%g", $"/proc/{plugin.Id}"));

        var added = JsonDocument.Parse((await _files.CliAsync("keystore", "add", "--json")).Output).RootElement[0].GetProperty("id").GetString()!;
        Assert.Equal($"{PluginUser}:{PluginUser} {mode}", await OwnerAndModeAsync());
        await _files.CliAsync("keystore", "promote", added);
        Assert.Equal($"{PluginUser}:{PluginUser} {mode}", await OwnerAndModeAsync());

        await plugin.WaitForKeyIdAsync($"{added}@2");
        Assert.Equal("ok", (await plugin.V2.StatusAsync(new StatusRequest())).Healthz);
        Assert.DoesNotContain("reload failed", plugin.Log);
    }

    private Task<string> OwnerAndModeAsync() => RunAsync("stat", "-c", "%u:%g %a", _files.Keystore);

    private static bool IsRoot() => File.ReadAllLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0");

    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync(program, arguments);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Output.Trim();
    }
}
