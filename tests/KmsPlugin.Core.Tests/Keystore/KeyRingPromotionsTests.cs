using KmsPlugin.RootKeys.Keystore;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Core.Tests.Keystore;

/// <summary>The ring records which key was primary at each generation, so that exactly the issued key_ids decrypt.</summary>
public sealed class KeyRingPromotionsTests
{
    [Fact]
    public void Promotions_A_B_A_are_recorded_and_survive_the_serializer()
    {
        using var keystore = KeystoreFile.CreateInMemory();
        var a = keystore.PrimaryKey.Id;
        var b = keystore.AddKey().Id;
        keystore.Promote(b);
        keystore.Promote(a);

        var ring = KeyRingSerializer.Deserialize(keystore.WithRing(KeyRingSerializer.Serialize));
        Assert.Equal([new(1, a), new(2, b), new(3, a)], ring.Promotions.ToArray());
        Assert.True(ring.Issued(a, 1));
        Assert.True(ring.Issued(b, 2));
        Assert.True(ring.Issued(a, 3));
        Assert.False(ring.Issued(a, 2));
        Assert.False(ring.Issued(b, 1));
        Assert.False(ring.Issued(b, 3));
        Assert.False(ring.Issued(a, 4));
        Assert.False(ring.Issued(a, 0));
        Assert.False(ring.Issued("kek-unknown", 1));
    }

    [Fact]
    public void A_ring_written_before_promotions_were_recorded_knows_only_its_current_generation_and_keeps_older_ones_readable()
    {
        using var keystore = KeystoreFile.CreateInMemory();
        var a = keystore.PrimaryKey.Id;
        var b = keystore.AddKey().Id;
        keystore.Promote(b);
        var current = keystore.WithRing(KeyRingSerializer.Serialize);

        // The old layout ends right after the generation: drop the promotions section (count + 2 records).
        var legacy = KeyRingSerializer.Deserialize(current.AsSpan(0, current.Length - 2 - (2 * 10)));
        Assert.Equal([new(2, b)], legacy.Promotions.ToArray());
        Assert.True(legacy.Issued(b, 2));
        Assert.False(legacy.Issued(a, 2));
        Assert.False(legacy.Issued(b, 3));
        Assert.True(legacy.Issued(a, 1));
        Assert.True(legacy.Issued(b, 1));
    }

    [Fact]
    public void Rollback_raises_the_generation_above_the_running_one_and_leaves_the_gap_open()
    {
        using var keystore = KeystoreFile.CreateInMemory();
        var a = keystore.PrimaryKey.Id;
        Assert.Equal(a, keystore.Rollback(runningGeneration: 4).Id);
        Assert.Equal(5, keystore.Generation);
        keystore.WithRing(ring =>
        {
            Assert.Equal([new(1, a), new(5, a)], ring.Promotions.ToArray());
            Assert.True(ring.Issued(a, 3));
            return 0;
        });
        Assert.Contains("already above 2", Assert.Throws<Errors.KmsException>(() => keystore.Rollback(2)).Message);
    }
}
