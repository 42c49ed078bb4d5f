using KmsPlugin.Core.RootKeys;
using KmsPlugin.Core.Tests.Envelope;

namespace KmsPlugin.Core.Tests.RootKeys;

public sealed class PrimaryRootKeyTests
{
    [Theory]
    [InlineData("kek-20261128-1a2b3c4d@1", "kek-20261128-1a2b3c4d", 1)]
    [InlineData("kek-a@b@42", "kek-a@b", 42)]
    public void Key_ids_parse_back_into_root_key_and_generation(string keyId, string rootKeyId, long generation)
    {
        Assert.True(PrimaryRootKey.TryParseKeyId(keyId, out var parsedRoot, out var parsedGeneration));
        Assert.Equal(rootKeyId, parsedRoot);
        Assert.Equal(generation, parsedGeneration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("kek-1")]
    [InlineData("@1")]
    [InlineData("kek-1@")]
    [InlineData("kek-1@0")]
    [InlineData("kek-1@-1")]
    [InlineData("kek-1@+1")]
    [InlineData("kek-1@1x")]
    [InlineData("kek-1@99999999999999999999")]
    [InlineData("kek-1@01")]
    [InlineData("kek-1@00")]
    public void Anything_else_is_not_a_key_id(string keyId) =>
        Assert.False(PrimaryRootKey.TryParseKeyId(keyId, out _, out _));

    [Fact]
    public void Key_id_is_root_key_id_at_generation_and_round_trips()
    {
        var key = new CountingKeyProvider("kek-x").Primary.Key;
        var primary = new PrimaryRootKey(key, 7);

        Assert.Equal("kek-x@7", primary.KeyId);
        Assert.True(PrimaryRootKey.TryParseKeyId(primary.KeyId, out var root, out var generation));
        Assert.Equal(("kek-x", 7L), (root, generation));
        Assert.Equal(primary, new PrimaryRootKey(key, 7));
        Assert.NotEqual(primary, new PrimaryRootKey(key, 8));
    }
}
