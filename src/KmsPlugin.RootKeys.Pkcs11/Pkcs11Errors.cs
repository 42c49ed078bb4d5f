using KmsPlugin.Core.Errors;
using Net.Pkcs11Interop.Common;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// Maps PKCS#11 return values to <see cref="KmsException"/>s an operator can act on. Messages name
/// the token, the key label or the CKR_ code; never a PIN, key bytes or plaintext.
/// </summary>
internal static class Pkcs11Errors
{
    /// <summary>Return values after which the session (or the whole token connection) must be rebuilt.</summary>
    public static bool IsSessionLost(CKR rv) => rv is CKR.CKR_SESSION_HANDLE_INVALID or CKR.CKR_SESSION_CLOSED
        or CKR.CKR_USER_NOT_LOGGED_IN or CKR.CKR_DEVICE_REMOVED or CKR.CKR_TOKEN_NOT_PRESENT
        or CKR.CKR_DEVICE_ERROR or CKR.CKR_OBJECT_HANDLE_INVALID or CKR.CKR_KEY_HANDLE_INVALID
        or CKR.CKR_TOKEN_NOT_RECOGNIZED or CKR.CKR_SLOT_ID_INVALID or CKR.CKR_CRYPTOKI_NOT_INITIALIZED;

    /// <summary>
    /// Lost-session codes after which the session handle itself is gone (and its number may be
    /// reused); after the others (not logged in, stale object handle) the session is still open.
    /// </summary>
    public static bool IsHandleDead(CKR rv) => IsSessionLost(rv)
        && rv is not (CKR.CKR_USER_NOT_LOGGED_IN or CKR.CKR_OBJECT_HANDLE_INVALID or CKR.CKR_KEY_HANDLE_INVALID);

    public static bool IsWrongPin(CKR rv) => rv is CKR.CKR_PIN_INCORRECT or CKR.CKR_PIN_LEN_RANGE or CKR.CKR_PIN_INVALID;

    /// <summary>Failures of C_Decrypt that mean "this wrapped key is not authentic under this key and context".</summary>
    public static bool IsAuthenticationFailure(CKR rv) => rv is CKR.CKR_GENERAL_ERROR or CKR.CKR_ENCRYPTED_DATA_INVALID
        or CKR.CKR_ENCRYPTED_DATA_LEN_RANGE;

    private const string ConfigurationMark = "kms-plugin.pkcs11.configuration";

    /// <summary>
    /// Marks a failure that waiting will not fix (wrong PIN, key or mechanism missing, promotion
    /// record disagreeing): `serve` reports it at start-up instead of starting degraded.
    /// </summary>
    public static KmsException Configuration(KmsException ex)
    {
        ex.Data[ConfigurationMark] = true;
        return ex;
    }

    public static bool IsConfigurationProblem(KmsException ex) => ex.Data.Contains(ConfigurationMark);

    /// <summary>A fresh exception with the same kind, message and mark, for rethrowing a remembered failure.</summary>
    public static KmsException Copy(KmsException ex)
    {
        var copy = new KmsException(ex.Kind, ex.Message);
        return IsConfigurationProblem(ex) ? Configuration(copy) : copy;
    }

    public static KmsException WrongPin(string token) =>
        Configuration(new(KmsErrorKind.ProviderUnavailable, $"PKCS#11 login to token \"{token}\" failed: wrong PIN"));

    public static KmsException PinLocked(string token) =>
        Configuration(new(KmsErrorKind.ProviderUnavailable, $"PKCS#11 login to token \"{token}\" failed: the user PIN is locked"));

    public static KmsException TokenNotFound(string token) =>
        new(KmsErrorKind.ProviderUnavailable, $"PKCS#11 token \"{token}\" not found");

    public static KmsException KeyNotFound(string label, string token) =>
        Configuration(new(KmsErrorKind.KeyUnavailable, $"root key \"{Pkcs11KeyLabel.ToKeyId(label)}\": no AES key labelled \"{label}\" on token \"{token}\""));

    public static KmsException MechanismMissing(string token, CKM mechanism) =>
        Configuration(new(KmsErrorKind.ProviderUnavailable, $"PKCS#11 token \"{token}\" does not support {mechanism}, which the plugin needs to wrap data keys"));

    public static KmsException UnwrapFailed() => KmsException.CiphertextRejected("data key unwrap failed");

    public static KmsException TimedOut(TimeSpan timeout) =>
        new(KmsErrorKind.ProviderUnavailable, $"PKCS#11 call timed out after {timeout.TotalSeconds:0.###}s");

    public static KmsException Failed(string token, string operation, CKR rv, Exception? inner = null) =>
        new(KmsErrorKind.ProviderUnavailable, $"PKCS#11 {operation} on token \"{token}\" failed: {rv}", inner);
}
