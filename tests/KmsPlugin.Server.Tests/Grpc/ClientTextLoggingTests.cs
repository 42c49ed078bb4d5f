using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Core.Errors;
using KmsPlugin.Protocol.V2;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Grpc;

/// <summary>A v2 uid is the client's: a newline in it must not forge a line in the plugin's log.</summary>
public sealed class ClientTextLoggingTests
{
    private const string ForgedLine = "FORGED kms-plugin: root keys reloaded";

    [Fact]
    public async Task A_uid_with_newlines_and_control_characters_stays_on_its_own_log_line()
    {
        using var dir = new TempDirectory();
        var socket = dir.File("kms.sock");
        await using var plugin = await PluginProcess.StartAsync(socket, null, "--dev");
        var uid = $"uid-1\n{ForgedLine}\r\u001b[2K\u2028\u202eend";

        var rejected = await Assert.ThrowsAsync<RpcException>(async () => await plugin.V2.DecryptAsync(
            new DecryptRequest { Ciphertext = ByteString.CopyFrom(new byte[5]), KeyId = "x\ny", Uid = uid },
            deadline: DateTime.UtcNow.AddSeconds(30)));
        Assert.Equal(StatusCode.InvalidArgument, rejected.StatusCode);
        await plugin.WaitForLogAsync("rejected");

        var lines = plugin.Log.Split('\n');
        Assert.DoesNotContain(lines, line => line.TrimStart().StartsWith("FORGED", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains($"uid=uid-1?{ForgedLine}??[2K??end", StringComparison.Ordinal) && line.Contains("rejected", StringComparison.Ordinal));
        Assert.DoesNotContain('\u001b', plugin.Log);
        Assert.DoesNotContain('\u2028', plugin.Log);
    }

    [Theory]
    [InlineData("plain-uid", "plain-uid")]
    [InlineData("a\r\nb\tc\0d", "a??b?c?d")]
    [InlineData("bidi\u202eoverride\u2029end", "bidi?override?end")]
    public void Client_strings_are_made_printable(string value, string expected) =>
        Assert.Equal(expected, ClientText.Printable(value));

    [Fact]
    public void Long_client_strings_are_clipped() =>
        Assert.Equal(new string('a', 80) + "…", ClientText.Printable(new string('a', 500)));
}
