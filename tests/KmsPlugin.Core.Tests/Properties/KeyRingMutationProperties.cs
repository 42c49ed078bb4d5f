using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Tests.Shared.Properties;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Core.Tests.Properties;

/// <summary>
/// The sealed key ring's binary parser, below the keystore's authentication (which no mutation of a
/// file gets past): any bytes give a ring or a <see cref="FormatException"/>, nothing else.
/// </summary>
public sealed class KeyRingMutationProperties
{
    private const int Cases = 100_000;

    [Fact]
    public void Mutated_key_rings_parse_or_fail_with_format_exception_only()
    {
        using var keystore = KeystoreFile.CreateInMemory();
        keystore.AddKey(DateTimeOffset.UtcNow.AddDays(30));
        keystore.AddKey();
        var valid = new[] { keystore.WithRing(KeyRingSerializer.Serialize) };
        var parsed = 0;

        FixedSeedProperty.Check(ByteMutations.Of(valid), mutant =>
        {
            try
            {
                var ring = KeyRingSerializer.Deserialize(mutant.Bytes);
                Assert.Contains(ring.Primary, ring.Entries);
                parsed++;
            }
            catch (FormatException e)
            {
                Assert.StartsWith("key ring is malformed: ", e.Message);
            }
        }, Cases, m => m.ToString());

        // Flips in key material, dates and the generation still parse: the parser is reached past its first field.
        Assert.True(parsed > 0);
    }
}
