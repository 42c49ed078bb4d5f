using System.Security.Cryptography;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using Net.Pkcs11Interop.Common;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// One AES root key on the token, found by <c>CKA_LABEL</c>; its material never leaves the token.
/// Wrap = <c>CKM_AES_GCM</c> through C_Encrypt with a random 96-bit IV made here, a 128-bit tag and
/// the engine's context as AAD. Wrapped form: <c>iv (12) | ciphertext | tag (16)</c>.
/// </summary>
internal sealed class Pkcs11RootKey : IRootKey
{
    public const int IvSize = 12;
    public const int TagSize = 16;

    private readonly Pkcs11SessionPool _pool;
    private readonly object _checkGate = new();
    private string? _recordedCheckValue;
    private volatile KmsException? _refusal;

    public Pkcs11RootKey(string label, Pkcs11SessionPool pool)
    {
        Label = label;
        Id = Pkcs11KeyLabel.ToKeyId(label);
        _pool = pool;
    }

    public string Id { get; }

    public string Label { get; }

    /// <summary>
    /// The <see cref="KeyCheckValue"/>, computed inside the token with C_Encrypt (CKM_AES_GCM, the
    /// fixed nonce, the label as AAD, nothing to encrypt): the keys <c>pkcs11 keygen</c> makes may
    /// encrypt and decrypt but not sign, so CKM_AES_CMAC is not available to them.
    /// </summary>
    public string ComputeCheckValue(Pkcs11PooledSession session)
    {
        var key = session.FindAesKey(Label);
        var factories = session.Session.Factories;
        using var parameters = factories.MechanismParamsFactory.CreateCkGcmParams(KeyCheckValue.Nonce.ToArray(), IvSize * 8, KeyCheckValue.Label.ToArray(), TagSize * 8);
        using var mechanism = factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
        var tag = session.Session.Encrypt(mechanism, key, []);
        if (tag.Length != TagSize)
        {
            throw new KmsException(KmsErrorKind.ProviderUnavailable,
                $"PKCS#11 C_Encrypt on token \"{_pool.TokenLabel}\" returned {tag.Length} bytes for the key check value; expected {TagSize}");
        }

        return KeyCheckValue.FromTag(tag);
    }

    /// <summary>Set once the token answered with other key material under this label; never cleared.</summary>
    public KmsException? Refusal => _refusal;

    /// <summary>
    /// The first check value seen (at load) is recorded; a later connection that finds another one
    /// under the same label means a swapped or re-initialised token: the key is refused from then
    /// on, since wrapping under it would bind new data to other key material with the same key_id.
    /// Returns the refusal when this call caused it.
    /// </summary>
    public KmsException? RecordOrVerify(string checkValue)
    {
        lock (_checkGate)
        {
            if (_recordedCheckValue is null)
            {
                _recordedCheckValue = checkValue;
                return null;
            }

            if (_refusal is not null || string.Equals(_recordedCheckValue, checkValue, StringComparison.Ordinal))
            {
                return null;
            }

            _refusal = new KmsException(KmsErrorKind.KeyUnavailable,
                $"root key \"{Id}\" on token \"{_pool.TokenLabel}\" has key check value {checkValue}, not {_recordedCheckValue} as when it was loaded: " +
                "the token was swapped or re-initialised; the key is refused until the plugin restarts with the right token");
            return _refusal;
        }
    }

    public async ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, ReadOnlyMemory<byte> context, CancellationToken cancellationToken)
    {
        ThrowIfRefused();
        var plain = dataKey.ToArray();
        var aad = context.ToArray();
        try
        {
            return await _pool.RunAsync("C_Encrypt", session =>
            {
                ThrowIfRefused();
                var key = session.FindAesKey(Label);
                var iv = RandomNumberGenerator.GetBytes(IvSize);
                var factories = session.Session.Factories;
                using var parameters = factories.MechanismParamsFactory.CreateCkGcmParams(iv, IvSize * 8, aad, TagSize * 8);
                using var mechanism = factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
                var sealedKey = session.Session.Encrypt(mechanism, key, plain);
                if (sealedKey.Length != plain.Length + TagSize)
                {
                    throw new KmsException(KmsErrorKind.ProviderUnavailable,
                        $"PKCS#11 C_Encrypt on token \"{_pool.TokenLabel}\" returned {sealedKey.Length} bytes; expected {plain.Length + TagSize}");
                }

                var wrapped = new byte[IvSize + sealedKey.Length];
                iv.CopyTo(wrapped, 0);
                sealedKey.CopyTo(wrapped, IvSize);
                return wrapped;
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    public async ValueTask<int> UnwrapAsync(ReadOnlyMemory<byte> wrappedKey, ReadOnlyMemory<byte> context, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (wrappedKey.Length < IvSize + TagSize + 1)
        {
            throw KmsException.CiphertextRejected("wrapped data key is too short");
        }

        ThrowIfRefused();
        var iv = wrappedKey[..IvSize].ToArray();
        var sealedKey = wrappedKey[IvSize..].ToArray();
        var aad = context.ToArray();
        byte[] plain;
        try
        {
            plain = await DecryptAsync(iv, sealedKey, aad, freshAttempt: false, cancellationToken).ConfigureAwait(false);
        }
        catch (SuspectSessionException)
        {
            // SoftHSM (and others) answer CKR_GENERAL_ERROR both for a bad GCM tag and for a passing
            // fault. Only a second failure, on another session, calls the wrapped key unauthentic.
            plain = await DecryptAsync(iv, sealedKey, aad, freshAttempt: true, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            if (plain.Length != sealedKey.Length - TagSize)
            {
                throw Pkcs11Errors.UnwrapFailed();
            }

            if (plain.Length > destination.Length)
            {
                throw new ArgumentException("The destination is too small for the unwrapped key.", nameof(destination));
            }

            plain.CopyTo(destination);
            return plain.Length;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    private Task<byte[]> DecryptAsync(byte[] iv, byte[] sealedKey, byte[] aad, bool freshAttempt, CancellationToken cancellationToken) =>
        _pool.RunAsync("C_Decrypt", session =>
        {
            ThrowIfRefused();
            var key = session.FindAesKey(Label);
            var factories = session.Session.Factories;
            using var parameters = factories.MechanismParamsFactory.CreateCkGcmParams(iv, IvSize * 8, aad, TagSize * 8);
            using var mechanism = factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
            try
            {
                _pool.ThrowInjected("C_Decrypt");
                return session.Session.Decrypt(mechanism, key, sealedKey);
            }
            catch (Pkcs11Exception ex) when (ex.RV == CKR.CKR_GENERAL_ERROR && !freshAttempt)
            {
                // Not a KmsException, so the pool discards this session instead of returning it.
                throw new SuspectSessionException();
            }
            catch (Pkcs11Exception ex) when (Pkcs11Errors.IsAuthenticationFailure(ex.RV))
            {
                throw Pkcs11Errors.UnwrapFailed();
            }
        }, cancellationToken);

    private void ThrowIfRefused()
    {
        if (_refusal is { } refused)
        {
            throw new KmsException(refused.Kind, refused.Message);
        }
    }

    private sealed class SuspectSessionException : Exception
    {
    }
}
