namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// podman and the image scripts/build-image.sh built (KMS_PLUGIN_IMAGE, which scripts/test.sh
/// sets). Fails, never skips, when either is missing. Runs podman with scripts/podman/containers.conf
/// (runc, rlimits the sandbox allows) unless CONTAINERS_CONF names another file.
/// </summary>
internal static class Podman
{
    public const string ImageVariable = "KMS_PLUGIN_IMAGE";

    /// <summary>The static pod's hardening, as `podman run` flags: read-only root, no capabilities, no network.</summary>
    public static readonly string[] Hardening =
    [
        "--user", "1654:1654", "--read-only", "--read-only-tmpfs=false", "--tmpfs", "/tmp:rw,size=16m,mode=1777",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--network", "none",
    ];

    public static string Image => Environment.GetEnvironmentVariable(ImageVariable) is { Length: > 0 } image
        ? image
        : throw new InvalidOperationException($"{ImageVariable} is not set: run scripts/build-image.sh and set it to the image reference it prints (scripts/test.sh does both)");

    public static Task<ProcessResult> RunAsync(params string[] arguments) => RunAsync(TimeSpan.FromMinutes(3), arguments);

    public static Task<ProcessResult> RunAsync(TimeSpan timeout, params string[] arguments)
    {
        var environment = new Dictionary<string, string>();
        if (Environment.GetEnvironmentVariable("CONTAINERS_CONF") is not { Length: > 0 })
        {
            environment["CONTAINERS_CONF"] = Path.Combine(RepositoryPaths.Root, "scripts/podman/containers.conf");
        }

        // Not the test output directory: `podman kube play` takes a directory (or file) named like
        // an image there for a build context, and the kms-plugin executable is one.
        return ProcessRunner.RunAsync("podman", arguments, environment, timeout, Path.GetTempPath());
    }

    /// <summary>Runs podman and requires exit 0; returns stdout.</summary>
    public static async Task<string> CheckedAsync(params string[] arguments)
    {
        var result = await RunAsync(arguments);
        Assert.True(result.ExitCode == 0, $"podman {string.Join(' ', arguments)}: {result}");
        return result.Output.Trim();
    }

    /// <summary>A directory (or file) owned by the image's user, as an operator prepares the host.</summary>
    public static async Task GiveToPluginUserAsync(string path, string mode)
    {
        foreach (var (tool, value) in new[] { ("chown", "1654:1654"), ("chmod", mode) })
        {
            var result = await ProcessRunner.RunAsync(tool, [value, path]);
            Assert.True(result.ExitCode == 0, $"{tool} {value} {path}: {result}");
        }
    }

    /// <summary>Waits (up to 60 s) until the socket accepts; fails with the container's log otherwise.</summary>
    public static async Task WaitForSocketAsync(string socket, string container)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!PluginProcess.Connectable(socket))
        {
            if (DateTime.UtcNow > deadline)
            {
                var logs = await RunAsync("logs", container);
                Assert.Fail($"{container} never listened on {socket}:\n{logs}");
            }

            await Task.Delay(100);
        }
    }
}
