using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.RootKeys.Faults;

/// <summary>`serve --diagnostics-faults-file`: hidden, loud, re-read at run time, strict about its content.</summary>
public sealed class FaultsFileSwitchTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_switch_is_not_in_help()
    {
        var help = await PluginProcess.RunCliAsync(null, "serve", "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--root-key-timeout", help.Output);
        Assert.DoesNotContain("diagnostics", help.Output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("faults", help.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_faults_file_that_is_missing_or_unreadable_stops_the_start()
    {
        var socket = _dir.File("kms.sock");
        var bad = _dir.File("faults");
        await File.WriteAllTextAsync(bad, "wrap=sometimes\n");

        var missing = await PluginProcess.RunCliAsync(null, "serve", "--dev", "--socket", socket, "--diagnostics-faults-file", _dir.File("absent"));
        var unreadable = await PluginProcess.RunCliAsync(null, "serve", "--dev", "--socket", socket, "--diagnostics-faults-file", bad);

        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--diagnostics-faults-file", missing.Error);
        Assert.Equal(2, unreadable.ExitCode);
        Assert.Contains("\"wrap=sometimes\"", unreadable.Error);
        Assert.False(File.Exists(socket));
    }

    [Fact]
    public async Task Faults_follow_the_file_at_run_time_and_a_bad_edit_changes_nothing()
    {
        var socket = _dir.File("kms.sock");
        var faults = _dir.File("faults");
        await File.WriteAllTextAsync(faults, "# no fault yet\n");

        // One DEK per Encrypt: every Encrypt wraps through the root key.
        await using var plugin = await PluginProcess.StartAsync(socket, null, "--dev", "--dek-max-uses", "1", "--diagnostics-faults-file", faults);
        Assert.Contains("ROOT-KEY FAULT INJECTION IS ON", plugin.Log);
        await RoundTripAsync(plugin);

        await File.WriteAllTextAsync(faults, "wrap=fail\n");
        var refused = await WaitForFailureAsync(plugin);
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("injected fault", refused.Status.Detail);
        Assert.Contains("injected root-key faults now wrap=fail unwrap=off", plugin.Log);

        await File.WriteAllTextAsync(faults, "wrap=fail-sometimes\n");
        await WaitForLogAsync(plugin, "faults file");
        Assert.Contains("ignored", plugin.Log);
        Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<RpcException>(() => RoundTripAsync(plugin))).StatusCode);

        await File.WriteAllTextAsync(faults, "");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await Record.ExceptionAsync(() => RoundTripAsync(plugin)) is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, plugin.Log);
            await Task.Delay(100);
        }

        Assert.Equal(0, await plugin.TerminateAsync());
    }

    private static async Task RoundTripAsync(PluginProcess plugin)
    {
        var plain = RandomNumberGenerator.GetBytes(32);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var encrypted = await plugin.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plain) }, deadline: deadline);
        var decrypted = await plugin.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = encrypted.Cipher }, deadline: deadline);
        Assert.Equal(plain, decrypted.Plain.ToByteArray());
    }

    private static async Task<RpcException> WaitForFailureAsync(PluginProcess plugin)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (await Record.ExceptionAsync(() => RoundTripAsync(plugin)) is RpcException failure)
            {
                return failure;
            }

            Assert.True(DateTime.UtcNow < deadline, plugin.Log);
            await Task.Delay(100);
        }
    }

    private static async Task WaitForLogAsync(PluginProcess plugin, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!plugin.Log.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, plugin.Log);
            await Task.Delay(50);
        }
    }
}
