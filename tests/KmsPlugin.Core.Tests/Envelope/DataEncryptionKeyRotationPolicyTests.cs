using KmsPlugin.Core.Envelope;

namespace KmsPlugin.Core.Tests.Envelope;

public sealed class DataEncryptionKeyRotationPolicyTests
{
    private static readonly DataEncryptionKeyRotationPolicy Policy = new() { MaxUses = 10, MaxAge = TimeSpan.FromHours(1) };

    [Theory]
    [InlineData(1, 0, false, false)]
    [InlineData(10, 59, false, false)]
    [InlineData(11, 0, false, true)]
    [InlineData(1, 60, false, true)]
    [InlineData(1, 0, true, true)]
    public void Rotation_is_due_on_uses_age_or_primary_change(long uses, int minutes, bool primaryChanged, bool expected) =>
        Assert.Equal(expected, Policy.MustRotate(uses, TimeSpan.FromMinutes(minutes), primaryChanged));

    [Fact]
    public void Defaults_are_valid_and_within_the_nist_bound()
    {
        Assert.Empty(DataEncryptionKeyRotationPolicy.Default.Validate());
        Assert.Equal(1L << 20, DataEncryptionKeyRotationPolicy.Default.MaxUses);
    }

    [Fact]
    public void Every_bad_setting_is_reported_at_once()
    {
        var problems = new DataEncryptionKeyRotationPolicy { MaxUses = (1L << 32) + 1, MaxAge = TimeSpan.Zero }.Validate();
        Assert.Equal(2, problems.Count);
    }
}
