using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;

namespace KmsPlugin.RootKeys.Pkcs11.Tests;

[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11TokenAdminTests
{
    [Fact]
    public void Promotions_give_generations_one_two_three_and_distinct_key_ids_even_for_A_B_A()
    {
        var token = SoftHsm.CreateToken();
        using (var admin = token.Admin())
        {
            admin.GenerateKey("a", primary: true);
            Assert.Equal(["a"], admin.PromotionRecord());
        }

        var ids = new List<string>();
        using (var provider = Pkcs11RootKeyProvider.Open(token.Options("a")))
        {
            Assert.Equal(1, provider.Primary.Generation);
            ids.Add(provider.Primary.KeyId);
        }

        using (var admin = token.Admin())
        {
            admin.GenerateKey("b", primary: false);
            Assert.Equal(["a", "b"], admin.Promote("b"));
            Assert.Equal(["a", "b"], admin.Promote("b"));
        }

        using (var provider = Pkcs11RootKeyProvider.Open(token.Options("b", "a")))
        {
            Assert.Equal(2, provider.Primary.Generation);
            ids.Add(provider.Primary.KeyId);
        }

        using (var admin = token.Admin())
        {
            Assert.Equal(["a", "b", "a"], admin.Promote("a"));
        }

        using (var provider = Pkcs11RootKeyProvider.Open(token.Options("a", "b")))
        {
            Assert.Equal(3, provider.Primary.Generation);
            ids.Add(provider.Primary.KeyId);
        }

        Assert.Equal(["p11-a@1", "p11-b@2", "p11-a@3"], ids);
    }

    [Fact]
    public void A_primary_that_the_promotion_record_does_not_name_is_refused_with_the_fix()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a", "b");
        var ex = Assert.Throws<KmsException>(() => Pkcs11RootKeyProvider.Open(token.Options("b", "a")));
        Assert.Equal(KmsErrorKind.ProviderUnavailable, ex.Kind);
        Assert.StartsWith("the token's promotion record says the primary is \"a\"; run `kms-plugin pkcs11 promote --label b`", ex.Message);
    }

    [Fact]
    public void A_token_without_a_promotion_record_serves_generation_one()
    {
        var token = SoftHsm.CreateToken().WithKeys(false, "a");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a"));
        Assert.Equal("p11-a@1", provider.Primary.KeyId);
    }

    [Fact]
    public void Keygen_makes_a_sensitive_non_extractable_key_and_refuses_an_existing_label()
    {
        var token = SoftHsm.CreateToken();
        using var admin = token.Admin();
        var key = admin.GenerateKey("a", primary: false);
        Assert.Equal("a", key.Label);
        Assert.Equal(32, key.IdHex.Length);
        Assert.True(key.Encrypt && key.Decrypt && key.Sensitive && !key.Extractable);

        var ex = Assert.Throws<KmsException>(() => admin.GenerateKey("a", primary: true));
        Assert.Equal($"token \"{token.Label}\" already has an AES key labelled \"a\"; labels are never reused", ex.Message);
        Assert.Single(admin.ListKeys());
        Assert.Null(admin.PromotionRecord());

        Assert.Throws<KmsException>(() => admin.GenerateKey("no spaces", primary: false));
        var missing = Assert.Throws<KmsException>(() => admin.Promote("nope"));
        Assert.Equal(KmsErrorKind.KeyUnavailable, missing.Kind);
    }

    [Fact]
    public void Lists_tokens_and_refuses_a_wrong_pin()
    {
        var token = SoftHsm.CreateToken();
        using (token.Admin())
        {
        }

        Assert.Contains(Pkcs11TokenAdmin.ListTokens(SoftHsm.ModulePath), t => t.Label == token.Label && t.SerialNumber.Length > 0);
        var ex = Assert.Throws<KmsException>(() => Pkcs11TokenAdmin.Open(SoftHsm.ModulePath, token.Label, null, "wrong-pin"u8.ToArray()));
        Assert.Equal($"PKCS#11 login to token \"{token.Label}\" failed: wrong PIN", ex.Message);
        var absent = Assert.Throws<KmsException>(() => Pkcs11TokenAdmin.Open(SoftHsm.ModulePath, "no-such-token", null, "1234"u8.ToArray()));
        Assert.Equal("PKCS#11 token \"no-such-token\" not found", absent.Message);
    }
}
