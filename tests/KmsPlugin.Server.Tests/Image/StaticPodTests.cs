using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;

namespace KmsPlugin.Server.Tests.Image;

/// <summary>
/// charts/examples/kms-plugin-static-pod.yaml itself through `podman kube play`, with only the
/// image name and the host paths substituted: what a control-plane node runs.
/// </summary>
[Trait("Category", "Image")]
public sealed class StaticPodTests : IAsyncLifetime
{
    private const string ManifestImage = "image: kms-plugin:0.1.0";
    private readonly NodeDirectories _node = new();
    private readonly ITestOutputHelper _output;
    private string _manifest = "";

    public StaticPodTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public async Task InitializeAsync()
    {
        await _node.PrepareAsync();
        var text = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "charts/examples/kms-plugin-static-pod.yaml"));
        Assert.Contains(ManifestImage, text);
        _manifest = _node.File("static-pod.yaml");
        await File.WriteAllTextAsync(_manifest, text
            .Replace(ManifestImage, "image: " + Podman.Image, StringComparison.Ordinal)
            .Replace("path: /var/run/kmsplugin", "path: " + _node.Run, StringComparison.Ordinal)
            .Replace("path: /etc/kms-plugin", "path: " + _node.Keys, StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        await Podman.RunAsync("kube", "down", _manifest);
        _node.Dispose();
    }

    [Fact]
    public async Task Kube_play_serves_probes_and_the_go_client_and_stopping_the_pod_leaves_no_socket()
    {
        var play = await Podman.RunAsync("kube", "play", _manifest);
        _output.WriteLine(play.ToString());
        Assert.True(play.ExitCode == 0, play.ToString());
        await Podman.WaitForSocketAsync(_node.Socket, "kms-plugin-kms-plugin");

        // hostNetwork: the probes' address is the node's loopback, as the kubelet sees it.
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:8787"), Timeout = TimeSpan.FromSeconds(30) };
        foreach (var probe in new[] { "/livez", "/readyz" })
        {
            var response = await http.GetAsync(probe);
            Assert.True(response.IsSuccessStatusCode, $"{probe}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        foreach (var (api, authority) in new[] { ("v1", "percent"), ("v2", "localhost") })
        {
            var result = await GoClient.RunAsync("-api", api, "-socket", _node.Socket, "-authority", authority, "-mode", "check", "-timeout", "60s");
            Assert.True(result.ExitCode == 0, $"{api} {authority}: {result}");
        }

        var settings = await Podman.CheckedAsync("inspect", "--format", "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}", "kms-plugin-kms-plugin");
        Assert.Matches("^1654(:1654)? true$", settings);

        // podman 4.3's `kube down` SIGKILLs at once (podman issue 22397, fixed in 5.1), which no
        // kubelet does: stop the pod first, SIGTERM and terminationGracePeriodSeconds as the
        // kubelet sends them, then take it down.
        var stop = await Podman.RunAsync(TimeSpan.FromMinutes(2), "pod", "stop", "kms-plugin");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Equal("0", await Podman.CheckedAsync("inspect", "--format", "{{.State.ExitCode}}", "kms-plugin-kms-plugin"));
        var down = await Podman.RunAsync(TimeSpan.FromMinutes(2), "kube", "down", _manifest);
        Assert.True(down.ExitCode == 0, down.ToString());
        Assert.Empty(Directory.GetFileSystemEntries(_node.Run));
    }
}
