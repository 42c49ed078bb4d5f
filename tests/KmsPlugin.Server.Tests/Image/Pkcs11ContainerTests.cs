using System.Security.Cryptography;
using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;

namespace KmsPlugin.Server.Tests.Image;

/// <summary>
/// PKCS#11 inside the hardened container: the host's SoftHSM module is mounted read-only the way
/// an HSM vendor's module would be, its token directory read-write, and the key is made on the host
/// with OpenSC's pkcs11-tool, not with the plugin.
/// </summary>
[Trait("Category", "Image")]
public sealed class Pkcs11ContainerTests : IAsyncLifetime
{
    private const string HostModule = "/usr/lib/softhsm/libsofthsm2.so";
    private readonly NodeDirectories _node = new();
    private readonly ITestOutputHelper _output;
    private readonly string _container = "kms-test-p11-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    private readonly string _label = "img-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    private readonly string _pin = "pin-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    public Pkcs11ContainerTests(ITestOutputHelper output)
    {
        _output = output;
    }

    private string Tokens => _node.File("tokens");

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(HostModule), $"SoftHSM is not installed ({HostModule} missing): run scripts/test.sh");
        Directory.CreateDirectory(_node.Run);
        Directory.CreateDirectory(_node.Keys);
        Directory.CreateDirectory(Tokens);
        await Podman.GiveToPluginUserAsync(_node.Run, "0750");
        await Podman.GiveToPluginUserAsync(_node.Keys, "0700");
        var hostConfig = _node.File("softhsm2-host.conf");
        await File.WriteAllTextAsync(hostConfig, $"directories.tokendir = {Tokens}\nobjectstore.backend = file\nlog.level = ERROR\n");
        await File.WriteAllTextAsync(Path.Combine(_node.Keys, "softhsm2.conf"), "directories.tokendir = /var/lib/softhsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n");
        await File.WriteAllTextAsync(Path.Combine(_node.Keys, "pin"), _pin + "\n");
        await Podman.GiveToPluginUserAsync(Path.Combine(_node.Keys, "pin"), "0600");

        var environment = new Dictionary<string, string> { ["SOFTHSM2_CONF"] = hostConfig };
        await RequireAsync("softhsm2-util", ["--init-token", "--free", "--label", _label, "--pin", _pin, "--so-pin", "so-" + _pin], environment);
        await RequireAsync("pkcs11-tool", ["--module", HostModule, "--token-label", _label, "--login", "--pin", _pin,
            "--keygen", "--key-type", "AES:32", "--label", "root", "--sensitive"], environment);
        await RequireAsync("chown", ["-R", "1654:1654", Tokens], null);
    }

    public async Task DisposeAsync()
    {
        await Podman.RunAsync("rm", "--force", "--time", "0", _container);
        _node.Dispose();
    }

    [Fact]
    public async Task A_pkcs11_tool_key_on_a_mounted_module_serves_the_go_client_v1_and_v2()
    {
        await Podman.CheckedAsync(["run", "--detach", "--name", _container, .. Podman.Hardening,
            "-v", $"{_node.Run}:/var/run/kmsplugin", "-v", $"{_node.Keys}:/etc/kms-plugin:ro",
            "-v", $"{HostModule}:/opt/hsm/libsofthsm2.so:ro", "-v", $"{Tokens}:/var/lib/softhsm/tokens",
            "-e", "SOFTHSM2_CONF=/etc/kms-plugin/softhsm2.conf", Podman.Image,
            "serve", "--socket=/var/run/kmsplugin/kms.sock", "--provider=pkcs11", "--pkcs11-module=/opt/hsm/libsofthsm2.so",
            $"--pkcs11-token={_label}", "--pkcs11-key=root", "--pkcs11-pin-file=/etc/kms-plugin/pin"]);
        await Podman.WaitForSocketAsync(_node.Socket, _container);

        foreach (var (api, authority) in new[] { ("v1", "percent"), ("v2", "localhost") })
        {
            var result = await GoClient.RunAsync("-api", api, "-socket", _node.Socket, "-authority", authority, "-mode", "check", "-timeout", "60s");
            _output.WriteLine(result.ToString());
            Assert.True(result.ExitCode == 0, $"{api} {authority}: {result}\n{await Podman.RunAsync("logs", _container)}");
        }

        var logs = await Podman.RunAsync("logs", _container);
        Assert.DoesNotContain(_pin, logs.Output + logs.Error);
    }

    private static async Task RequireAsync(string tool, string[] arguments, IDictionary<string, string>? environment)
    {
        var result = await ProcessRunner.RunAsync(tool, arguments, environment);
        Assert.True(result.ExitCode == 0, $"{tool} {arguments[0]}: {result}");
    }
}
