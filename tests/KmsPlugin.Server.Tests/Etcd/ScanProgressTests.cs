using KmsPlugin.Server.Etcd;

namespace KmsPlugin.Server.Tests.Etcd;

public sealed class ScanProgressTests
{
    [Fact]
    public void Off_a_terminal_it_writes_a_plain_line_every_tenth()
    {
        var output = new StringWriter();
        var progress = new ScanProgress(output, total: 1000, terminal: false);
        for (var i = 1; i <= 1000; i++)
        {
            progress.Report(i);
        }

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        Assert.Equal("scanned 100 of 1000", lines[0]);
        Assert.Equal("scanned 1000 of 1000", lines[^1]);
    }

    [Fact]
    public void On_a_terminal_it_redraws_one_bar()
    {
        var output = new StringWriter();
        var progress = new ScanProgress(output, total: 400, terminal: true);
        for (var i = 1; i <= 400; i++)
        {
            progress.Report(i);
        }

        var text = output.ToString();
        Assert.StartsWith("\r[", text);
        Assert.EndsWith($"\r[{new string('#', 40)}] 400/400\n", text.Replace("\r\n", "\n"));
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
