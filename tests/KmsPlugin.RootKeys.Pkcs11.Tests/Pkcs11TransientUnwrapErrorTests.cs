using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;
using Net.Pkcs11Interop.Common;

namespace KmsPlugin.RootKeys.Pkcs11.Tests;

/// <summary>
/// SoftHSM answers CKR_GENERAL_ERROR for a bad GCM tag and for a passing fault alike. A wrapped key
/// is called unauthentic (InvalidArgument, which `etcd verify` reports as unreadable data) only when
/// C_Decrypt fails that way twice, the second time on another session.
/// </summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11TransientUnwrapErrorTests
{
    private static readonly byte[] Context = "\u0001p11-a"u8.ToArray();

    [Fact]
    public async Task One_general_error_on_unwrap_is_retried_on_another_session_and_the_good_key_comes_back()
    {
        var failuresLeft = 1;
        var decrypts = 0;
        using var provider = Open(() =>
        {
            Interlocked.Increment(ref decrypts);
            return Interlocked.Decrement(ref failuresLeft) >= 0 ? CKR.CKR_GENERAL_ERROR : CKR.CKR_OK;
        });
        var key = provider.Primary.Key;
        var dataKey = new byte[32];
        Random.Shared.NextBytes(dataKey);
        var wrapped = await key.WrapAsync(dataKey, Context, default);

        var buffer = new byte[64];
        var written = await key.UnwrapAsync(wrapped, Context, buffer, default);
        Assert.Equal(dataKey, buffer[..written]);
        Assert.Equal(2, Volatile.Read(ref decrypts));
    }

    [Fact]
    public async Task A_general_error_that_persists_is_a_rejected_ciphertext_after_exactly_one_retry()
    {
        var decrypts = 0;
        using var provider = Open(() =>
        {
            Interlocked.Increment(ref decrypts);
            return CKR.CKR_GENERAL_ERROR;
        });
        var key = provider.Primary.Key;
        var wrapped = await key.WrapAsync(new byte[32], Context, default);

        var ex = await Assert.ThrowsAsync<KmsException>(() => key.UnwrapAsync(wrapped, Context, new byte[64], default).AsTask());
        Assert.Equal(KmsErrorKind.InvalidCiphertext, ex.Kind);
        Assert.Equal(2, Volatile.Read(ref decrypts));
    }

    [Fact]
    public async Task A_real_bad_tag_from_softhsm_is_still_rejected()
    {
        var decrypts = 0;
        using var provider = Open(() =>
        {
            Interlocked.Increment(ref decrypts);
            return CKR.CKR_OK;
        });
        var key = provider.Primary.Key;
        var wrapped = await key.WrapAsync(new byte[32], Context, default);
        wrapped[^1] ^= 0x01;

        var ex = await Assert.ThrowsAsync<KmsException>(() => key.UnwrapAsync(wrapped, Context, new byte[64], default).AsTask());
        Assert.Equal(KmsErrorKind.InvalidCiphertext, ex.Kind);
        Assert.Equal(2, Volatile.Read(ref decrypts));
    }

    private static Pkcs11RootKeyProvider Open(Func<CKR> onDecrypt)
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a");
        return Pkcs11RootKeyProvider.Open(token.Options("a") with
        {
            InjectResult = function => function == "C_Decrypt" ? onDecrypt() : CKR.CKR_OK,
        });
    }
}
