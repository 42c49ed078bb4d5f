using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Image;

/// <summary>
/// The host side of a plugin container, prepared as docs/container-image.md tells an operator: a
/// socket directory and a keystore directory owned by UID 1654, a 0600 passphrase file, and a
/// keystore made by `keystore init` through the image itself.
/// </summary>
internal sealed class NodeDirectories : IDisposable
{
    private readonly TempDirectory _dir = new();

    public string Run => _dir.File("run");

    public string Keys => _dir.File("keys");

    public string Socket => Path.Combine(Run, "kms.sock");

    public string File(string name) => _dir.File(name);

    /// <summary>Creates the directories and initialises the keystore with `podman run … keystore init`; returns that run.</summary>
    public async Task<ProcessResult> PrepareAsync()
    {
        Directory.CreateDirectory(Run);
        Directory.CreateDirectory(Keys);
        await Podman.GiveToPluginUserAsync(Run, "0750");
        await Podman.GiveToPluginUserAsync(Keys, "0700");
        var passphrase = Path.Combine(Keys, "passphrase");
        await System.IO.File.WriteAllTextAsync(passphrase, "image test passphrase\n");
        await Podman.GiveToPluginUserAsync(passphrase, "0600");

        var init = await Podman.RunAsync(["run", "--rm", .. Podman.Hardening, "-v", $"{Keys}:/etc/kms-plugin", Podman.Image,
            "keystore", "init", "--keystore", "/etc/kms-plugin/keystore.json", "--passphrase-file", "/etc/kms-plugin/passphrase"]);
        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.True(System.IO.File.Exists(Path.Combine(Keys, "keystore.json")), "keystore init through the image wrote no keystore");
        return init;
    }

    public void Dispose() => _dir.Dispose();
}
