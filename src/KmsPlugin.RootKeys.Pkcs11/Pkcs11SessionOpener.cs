using System.Security.Cryptography;
using KmsPlugin.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// Opens a logged-in session on the token. Every new session logs in; <c>CKR_USER_ALREADY_LOGGED_IN</c>
/// is success (login state is per token, shared by all sessions). A wrong PIN is remembered and never
/// retried: HSMs lock a PIN after a few failures.
/// </summary>
internal sealed class Pkcs11SessionOpener : IDisposable
{
    private readonly Pkcs11TokenConnection _connection;
    private readonly string _tokenLabel;
    private readonly byte[] _pin;
    private KmsException? _loginFailure;

    public Pkcs11SessionOpener(Pkcs11TokenConnection connection, Pkcs11ProviderOptions options)
    {
        _connection = connection;
        _tokenLabel = options.TokenLabel;
        _pin = options.Pin.ToArray();
    }

    // Holds the module's call lock.
    public ISession Open(ISlot found, int foundEpoch)
    {
        ISession session;
        try
        {
            session = found.OpenSession(SessionType.ReadOnly);
        }
        catch (Pkcs11Exception ex)
        {
            if (Pkcs11Errors.IsSessionLost(ex.RV))
            {
                _connection.Invalidate(foundEpoch, Pkcs11Errors.IsHandleDead(ex.RV));
                throw Pkcs11Errors.TokenNotFound(_tokenLabel);
            }

            throw Pkcs11Errors.Failed(_tokenLabel, "C_OpenSession", ex.RV, ex);
        }

        LogIn(session, foundEpoch);
        return session;
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_pin);

    // Closes the session if it fails.
    private void LogIn(ISession session, int foundEpoch)
    {
        try
        {
            Login(session);
        }
        catch (Pkcs11Exception ex)
        {
            CloseQuietly(session);
            if (Pkcs11Errors.IsSessionLost(ex.RV))
            {
                _connection.Invalidate(foundEpoch, Pkcs11Errors.IsHandleDead(ex.RV));
            }

            throw Pkcs11Errors.Failed(_tokenLabel, "C_Login", ex.RV, ex);
        }
        catch
        {
            CloseQuietly(session);
            throw;
        }
    }

    private void Login(ISession session)
    {
        var remembered = Volatile.Read(ref _loginFailure);
        if (remembered is not null)
        {
            throw Pkcs11Errors.Copy(remembered);
        }

        try
        {
            session.Login(CKU.CKU_USER, _pin);
        }
        catch (Pkcs11Exception ex) when (ex.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
        {
        }
        catch (Pkcs11Exception ex) when (Pkcs11Errors.IsWrongPin(ex.RV) || ex.RV == CKR.CKR_PIN_LOCKED)
        {
            var failure = ex.RV == CKR.CKR_PIN_LOCKED ? Pkcs11Errors.PinLocked(_tokenLabel) : Pkcs11Errors.WrongPin(_tokenLabel);
            Volatile.Write(ref _loginFailure, failure);
            throw Pkcs11Errors.Copy(failure);
        }
    }

    private static void CloseQuietly(ISession session)
    {
        try
        {
            session.Dispose();
        }
        catch (Pkcs11Exception)
        {
        }
    }
}
