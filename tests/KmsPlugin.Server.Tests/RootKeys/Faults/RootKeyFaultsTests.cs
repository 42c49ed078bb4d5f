using KmsPlugin.Server.RootKeys.Faults;

namespace KmsPlugin.Server.Tests.RootKeys.Faults;

public sealed class RootKeyFaultsTests
{
    [Fact]
    public void Reads_every_mode_per_operation_and_writes_it_back_the_same_way()
    {
        var faults = RootKeyFaults.Parse("# drill\nwrap=fail-every:3\nunwrap=slow:250ms  # slow HSM\n");
        Assert.Equal(RootKeyFault.FailEvery(3), faults.Wrap);
        Assert.Equal(RootKeyFault.Slow(TimeSpan.FromMilliseconds(250)), faults.Unwrap);
        Assert.Equal("wrap=fail-every:3 unwrap=slow:250ms", faults.ToString());
        Assert.Equal(faults, RootKeyFaults.Parse(faults.ToString()));

        Assert.Equal(new RootKeyFaults(RootKeyFault.Hang, RootKeyFault.Hang), RootKeyFaults.Parse("all=hang"));
        Assert.Equal(new RootKeyFaults(RootKeyFault.None, RootKeyFault.Fail), RootKeyFaults.Parse("all=fail wrap=off"));
        Assert.Equal(RootKeyFault.Slow(TimeSpan.FromSeconds(2)), RootKeyFaults.Parse("unwrap=slow:2s").Unwrap);
        Assert.False(RootKeyFaults.Parse("").Any);
        Assert.False(RootKeyFaults.Parse("  # nothing\n\n").Any);
        Assert.True(RootKeyFaults.Parse("unwrap=fail").Any);
    }

    [Theory]
    [InlineData("fail")]
    [InlineData("encrypt=fail")]
    [InlineData("wrap=")]
    [InlineData("wrap=explode")]
    [InlineData("wrap=slow")]
    [InlineData("wrap=slow:0ms")]
    [InlineData("wrap=slow:-5ms")]
    [InlineData("wrap=slow:2h")]
    [InlineData("wrap=fail-every:0")]
    [InlineData("wrap=fail-every:x")]
    [InlineData("wrap=hang:1")]
    public void Rejects_what_it_cannot_read_naming_the_setting(string text)
    {
        var error = Assert.Throws<FormatException>(() => RootKeyFaults.Parse(text));
        Assert.Contains($"\"{text}\"", error.Message);
    }
}
