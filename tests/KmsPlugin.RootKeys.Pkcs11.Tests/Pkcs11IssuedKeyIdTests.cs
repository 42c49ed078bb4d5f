using KmsPlugin.RootKeys.Pkcs11.Tests.Support;

namespace KmsPlugin.RootKeys.Pkcs11.Tests;

/// <summary>KMS v2 Decrypt asks the provider whether it issued <c>root@generation</c>; for PKCS#11 the token's promotion record answers.</summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11IssuedKeyIdTests
{
    [Fact]
    public void Generations_follow_the_promotion_record_and_at_1_every_configured_key_is_accepted()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "first", "second");
        using (var admin = token.Admin())
        {
            admin.Promote("second");
            admin.Promote("first");
        }

        using var provider = Pkcs11RootKeyProvider.Open(token.Options("first", "second"));
        Assert.Equal("p11-first@3", provider.Primary.KeyId);

        Assert.False(provider.NeverIssued("p11-first", 1));
        Assert.False(provider.NeverIssued("p11-second", 2));
        Assert.False(provider.NeverIssued("p11-first", 3));
        Assert.True(provider.NeverIssued("p11-first", 2));
        Assert.True(provider.NeverIssued("p11-second", 3));
        Assert.True(provider.NeverIssued("p11-first", 4));
        Assert.True(provider.NeverIssued("p11-second", 4));

        // Keys served before the token had a record were all @1; unknown root keys are GetForDecrypt's to report.
        Assert.False(provider.NeverIssued("p11-second", 1));
        Assert.False(provider.NeverIssued("p11-unknown", 2));
    }

    [Fact]
    public void Without_a_record_only_generation_1_was_issued()
    {
        var token = SoftHsm.CreateToken().WithKeys(false, "root");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("root"));
        Assert.Equal("p11-root@1", provider.Primary.KeyId);
        Assert.False(provider.NeverIssued("p11-root", 1));
        Assert.True(provider.NeverIssued("p11-root", 2));
    }
}
