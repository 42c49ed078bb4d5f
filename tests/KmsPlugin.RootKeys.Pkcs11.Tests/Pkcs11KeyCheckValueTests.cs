using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;
using Net.Pkcs11Interop.Common;

namespace KmsPlugin.RootKeys.Pkcs11.Tests;

/// <summary>Key check values computed inside SoftHSM, compared with the same MAC computed outside it.</summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11KeyCheckValueTests
{
    [Fact]
    public void The_token_computes_the_check_value_of_a_key_with_known_bytes()
    {
        var token = SoftHsm.CreateToken();
        var keyBytes = Enumerable.Range(0, 32).Select(b => (byte)b).ToArray();
        Import(token, "known", keyBytes);
        token.WithKeys(false, "generated");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("known", "generated"));

        var keys = provider.DescribeKeys();
        Assert.Equal(["p11-known", "p11-generated"], keys.Select(k => k.Id));
        Assert.Equal([KeyState.Primary, KeyState.DecryptOnly], keys.Select(k => k.State));
        Assert.Equal([1L, null], keys.Select(k => k.Generation));

        // The same value pyca/cryptography gives for these bytes (see KeyCheckValueTests in Core).
        Assert.Equal("e6f89dbede280582", keys[0].CheckValue);
        Assert.Equal(KeyCheckValue.Compute(keyBytes), keys[0].CheckValue);
        Assert.Matches("^[0-9a-f]{16}$", keys[1].CheckValue);
        Assert.NotEqual(keys[0].CheckValue, keys[1].CheckValue);
    }

    [Fact]
    public void Keys_made_by_keygen_give_the_same_check_value_to_every_provider_on_the_token()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a", "b");
        using var first = Pkcs11RootKeyProvider.Open(token.Options("a", "b"));
        using var second = Pkcs11RootKeyProvider.Open(token.Options("a", "b"));

        Assert.Equal(first.DescribeKeys(), second.DescribeKeys());
        var other = SoftHsm.CreateToken().WithKeys(true, "a");
        using var elsewhere = Pkcs11RootKeyProvider.Open(other.Options("a"));
        Assert.NotEqual(first.DescribeKeys()[0].CheckValue, elsewhere.DescribeKeys()[0].CheckValue);
    }

    // The same attributes `pkcs11 keygen` sets, but with known bytes: C_CreateObject instead of C_GenerateKey.
    private static void Import(SoftHsmToken token, string label, byte[] value)
    {
        // Opening an admin session first makes the module see the new token (it re-initializes if needed).
        token.Admin().Dispose();
        var module = Pkcs11Module.Load(SoftHsm.ModulePath);
        module.EnterCall();
        try
        {
            var slot = Pkcs11SlotFinder.Find(module.Library, token.Label, null)!;
            using var session = slot.OpenSession(SessionType.ReadWrite);
            session.Login(CKU.CKU_USER, token.PinBytes);
            var attributes = session.Factories.ObjectAttributeFactory;
            session.CreateObject(
            [
                attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
                attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
                attributes.Create(CKA.CKA_VALUE, value),
                attributes.Create(CKA.CKA_TOKEN, true),
                attributes.Create(CKA.CKA_PRIVATE, true),
                attributes.Create(CKA.CKA_SENSITIVE, true),
                attributes.Create(CKA.CKA_EXTRACTABLE, false),
                attributes.Create(CKA.CKA_ENCRYPT, true),
                attributes.Create(CKA.CKA_DECRYPT, true),
                attributes.Create(CKA.CKA_LABEL, label),
                attributes.Create(CKA.CKA_ID, new byte[] { 1 }),
            ]);
        }
        finally
        {
            module.ExitCall();
        }
    }
}
