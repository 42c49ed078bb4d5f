using System.Security.Cryptography;
using Google.Protobuf;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;

namespace KmsPlugin.Server.Tests.Image;

/// <summary>
/// The image as the static pod runs it, through `podman run` with the same hardening (read-only
/// root, no capabilities, no privilege escalation, user 1654, no network), the socket and keystore
/// directories bind-mounted from the host, and kube-apiserver's Go client on the host.
/// </summary>
[Trait("Category", "Image")]
public sealed class HardenedContainerTests : IAsyncLifetime
{
    private readonly NodeDirectories _node = new();
    private readonly ITestOutputHelper _output;
    private readonly string _container = "kms-test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    public HardenedContainerTests(ITestOutputHelper output)
    {
        _output = output;
    }

    private string Socket => _node.Socket;

    private string KeysDirectory => _node.Keys;

    public async Task InitializeAsync() => _output.WriteLine((await _node.PrepareAsync()).ToString());

    public async Task DisposeAsync()
    {
        await Podman.RunAsync("rm", "--force", "--time", "0", _container);
        _node.Dispose();
    }

    [Fact]
    public async Task The_go_client_passes_v1_raw_and_percent_encoded_and_v2_against_the_hardened_container()
    {
        await StartAsync();

        foreach (var (api, authority) in new[] { ("v1", "raw"), ("v1", "percent"), ("v2", "localhost") })
        {
            var result = await GoClient.RunAsync("-api", api, "-socket", Socket, "-authority", authority, "-mode", "check", "-timeout", "60s");
            _output.WriteLine(result.ToString());
            Assert.True(result.ExitCode == 0, $"{api} {authority}: {result}\n{await Podman.RunAsync("logs", _container)}");
        }

        var user = await Podman.CheckedAsync("inspect", "--format", "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.NetworkMode}}", _container);
        Assert.Equal("1654:1654 true none", user);
    }

    [Fact]
    public async Task Podman_stop_with_calls_in_flight_lets_them_finish_exits_0_and_removes_the_socket()
    {
        var faults = Path.Combine(KeysDirectory, "faults");
        await File.WriteAllTextAsync(faults, "");
        await Podman.GiveToPluginUserAsync(faults, "0600");
        await StartAsync("--dek-max-uses=1", "--dek-cache-size=8", "--shutdown-grace=60s", "--root-key-timeout=60s", "--diagnostics-faults-file=/etc/kms-plugin/faults");

        using var channel = UnixSocketClient.Create(Socket);
        var client = new KeyManagementService.KeyManagementServiceClient(channel);
        var sealedValues = new List<(byte[] Plain, ByteString Cipher)>();
        for (var i = 0; i < 16; i++)
        {
            var plain = RandomNumberGenerator.GetBytes(32);
            sealedValues.Add((plain, (await client.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plain) })).Cipher));
        }

        // The first 8 data keys have left the cache of 8: decrypting them needs a slowed unwrap.
        sealedValues.RemoveRange(8, 8);
        await File.WriteAllTextAsync(faults, "unwrap=slow:8s");
        await WaitForLogAsync("unwrap=slow:8000ms");
        var decrypts = sealedValues.Select(value => client.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = value.Cipher }, deadline: DateTime.UtcNow.AddSeconds(90)).ResponseAsync).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.All(decrypts, call => Assert.False(call.IsCompleted));

        var stop = await Podman.RunAsync(TimeSpan.FromMinutes(2), "stop", "--time", "60", _container);
        Assert.True(stop.ExitCode == 0, stop.ToString());
        var answers = await Task.WhenAll(decrypts);

        Assert.Equal(sealedValues.Select(value => value.Plain), answers.Select(answer => answer.Plain.ToByteArray()));
        Assert.Equal("0", await Podman.CheckedAsync("inspect", "--format", "{{.State.ExitCode}}", _container));
        Assert.False(File.Exists(Socket), "the socket outlived the container");
    }

    private async Task StartAsync(params string[] extra)
    {
        await Podman.CheckedAsync(["run", "--detach", "--name", _container, .. Podman.Hardening,
            "-v", $"{_node.Run}:/var/run/kmsplugin", "-v", $"{KeysDirectory}:/etc/kms-plugin:ro", Podman.Image,
            "serve", "--socket=/var/run/kmsplugin/kms.sock", "--keystore=/etc/kms-plugin/keystore.json", "--passphrase-file=/etc/kms-plugin/passphrase", .. extra]);
        await Podman.WaitForSocketAsync(Socket, _container);
    }

    private async Task WaitForLogAsync(string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string logs;
        while (!(logs = (await Podman.RunAsync("logs", _container)).ToString()).Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the container never logged \"{text}\":\n{logs}");
            await Task.Delay(200);
        }
    }
}
