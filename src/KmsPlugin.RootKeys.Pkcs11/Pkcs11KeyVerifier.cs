using KmsPlugin.Core.Errors;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// Compares each key's check value, computed inside the token, with the one recorded when it was
/// first loaded: after every reconnection (a token found by label again may be another token, or
/// the same one re-initialised with the same labels) and on every connect or reload check.
/// </summary>
internal sealed class Pkcs11KeyVerifier
{
    public Action<string>? KeyRefused { get; set; }

    /// <summary>A key missing on the token is skipped here: the call that needs it reports that.</summary>
    public void VerifyAll(IEnumerable<Pkcs11RootKey> keys, Pkcs11PooledSession session)
    {
        foreach (var key in keys)
        {
            try
            {
                Verified(key, key.ComputeCheckValue(session));
            }
            catch (KmsException)
            {
            }
        }
    }

    public string Verified(Pkcs11RootKey key, string checkValue)
    {
        if (key.RecordOrVerify(checkValue) is { } refused)
        {
            KeyRefused?.Invoke(refused.Message);
        }

        return checkValue;
    }
}
