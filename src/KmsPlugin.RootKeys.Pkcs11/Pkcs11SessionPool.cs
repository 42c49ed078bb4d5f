using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using KmsPlugin.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// A bounded pool of logged-in sessions on one token: one session per concurrent call (a session
/// used from two threads corrupts SoftHSM), at most <see cref="Pkcs11ProviderOptions.MaxSessions"/>.
/// <list type="bullet">
/// <item>The token is found by label (and serial) on first use and again after it was lost: a
/// re-initialised token comes back in another slot.</item>
/// <item>Every new session logs in; <c>CKR_USER_ALREADY_LOGGED_IN</c> is success (login state is per
/// token, shared by all sessions). A wrong PIN is remembered and never retried: HSMs lock a PIN
/// after a few failures.</item>
/// <item>A call that fails with a lost-session code (<see cref="Pkcs11Errors.IsSessionLost"/>)
/// discards every session of that connection, finds the token again and retries once.</item>
/// <item>Every call is bounded by <see cref="Pkcs11ProviderOptions.CallTimeout"/>, waiting for a
/// free session included. It runs on a pool thread; a call that outlives its timeout keeps its
/// session (and its place in the bound) until the module returns.</item>
/// <item>When the token cannot be found, lookups are retried at most once a second, each after
/// re-initialising the module (<see cref="Pkcs11Module.TryReinitialize"/>: many modules enumerate
/// tokens only then); calls in between fail fast with the remembered reason.</item>
/// </list>
/// </summary>
internal sealed class Pkcs11SessionPool : IDisposable
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private readonly Pkcs11Module _module;
    private readonly Pkcs11ProviderOptions _options;
    private readonly byte[] _pin;
    private readonly SemaphoreSlim _gate;
    private readonly ConcurrentBag<Pkcs11PooledSession> _idle = [];
    private readonly object _connectionGate = new();
    private ISlot? _slot;
    private int _slotGeneration;
    private int _abandonBelow;
    private int _epoch;
    private KmsException? _lookupFailure;
    private long _lookupFailedAt;
    private KmsException? _loginFailure;
    private int _checkedEpoch = -1;
    private bool _disposed;

    public Pkcs11SessionPool(Pkcs11Module module, Pkcs11ProviderOptions options)
    {
        _module = module;
        _options = options;
        _pin = options.Pin.ToArray();
        _gate = new SemaphoreSlim(options.MaxSessions, options.MaxSessions);
    }

    public string TokenLabel => _options.TokenLabel;

    public TimeSpan CallTimeout => _options.CallTimeout;

    /// <summary>Raises the result <see cref="Pkcs11ProviderOptions.InjectResult"/> injects for <paramref name="function"/>, if any.</summary>
    public void ThrowInjected(string function)
    {
        if (_options.InjectResult?.Invoke(function) is { } rv && rv != CKR.CKR_OK)
        {
            throw new Pkcs11Exception(function, rv);
        }
    }

    /// <summary>
    /// Runs on the first session of every connection (at start and after each reconnect), before the
    /// call that opened it: the provider re-checks that the token still holds the keys it loaded.
    /// </summary>
    public Action<Pkcs11PooledSession>? ConnectionCheck { get; set; }

    /// <summary>
    /// Runs <paramref name="operation"/> on a pooled session within the call timeout. PKCS#11
    /// failures that <paramref name="operation"/> does not turn into a <see cref="KmsException"/>
    /// itself become <see cref="KmsErrorKind.ProviderUnavailable"/> naming <paramref name="name"/>
    /// and the CKR_ code.
    /// </summary>
    public async Task<T> RunAsync<T>(string name, Func<Pkcs11PooledSession, T> operation, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (!await _gate.WaitAsync(_options.CallTimeout, cancellationToken).ConfigureAwait(false))
        {
            throw new KmsException(KmsErrorKind.ProviderUnavailable,
                $"PKCS#11 call timed out after {_options.CallTimeout.TotalSeconds:0.###}s: all {_options.MaxSessions} sessions are busy");
        }

        Task<T> work;
        try
        {
            work = Task.Run(() =>
            {
                try
                {
                    return Execute(name, operation);
                }
                finally
                {
                    _gate.Release();
                }
            }, CancellationToken.None);
        }
        catch
        {
            _gate.Release();
            throw;
        }

        var remaining = _options.CallTimeout - clock.Elapsed;
        try
        {
            return await work.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Observe(work);
            throw Pkcs11Errors.TimedOut(_options.CallTimeout);
        }
        catch (OperationCanceledException)
        {
            Observe(work);
            throw;
        }
    }

    // The call goes on after its caller left; its failure must not surface as an unobserved exception.
    private static void Observe(Task work) =>
        _ = work.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>Blocking form of <see cref="RunAsync{T}"/>, for start-up and reconnect checks.</summary>
    public T Run<T>(string name, Func<Pkcs11PooledSession, T> operation) =>
        RunAsync(name, operation, CancellationToken.None).GetAwaiter().GetResult();

    public void Dispose()
    {
        lock (_connectionGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _epoch++;
            _slot = null;
        }

        _module.EnterCall();
        try
        {
            while (_idle.TryTake(out var session))
            {
                Discard(session);
            }
        }
        finally
        {
            _module.ExitCall();
        }

        CryptographicOperations.ZeroMemory(_pin);
    }

    private T Execute<T>(string name, Func<Pkcs11PooledSession, T> operation)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (found, foundEpoch) = FindToken();
            _module.EnterCall();
            try
            {
                var session = Take(found, foundEpoch);
                try
                {
                    _options.BeforeCall?.Invoke();
                    CheckConnection(session);
                    var result = operation(session);
                    Return(session);
                    return result;
                }
                catch (Pkcs11Exception ex) when (Pkcs11Errors.IsSessionLost(ex.RV))
                {
                    Invalidate(session.Epoch, Pkcs11Errors.IsHandleDead(ex.RV));
                    Discard(session);
                    if (attempt > 0)
                    {
                        throw Pkcs11Errors.Failed(TokenLabel, name, ex.RV, ex);
                    }
                }
                catch (Pkcs11Exception ex)
                {
                    Return(session);
                    throw Pkcs11Errors.Failed(TokenLabel, name, ex.RV, ex);
                }
                catch (KmsException)
                {
                    Return(session);
                    throw;
                }
                catch
                {
                    Discard(session);
                    throw;
                }
            }
            finally
            {
                _module.ExitCall();
            }
        }
    }

    // Concurrent first calls of one connection may each check; the check is idempotent.
    private void CheckConnection(Pkcs11PooledSession session)
    {
        if (ConnectionCheck is { } check && Volatile.Read(ref _checkedEpoch) != session.Epoch)
        {
            check(session);
            Volatile.Write(ref _checkedEpoch, session.Epoch);
        }
    }

    // Holds the module's call lock.
    private Pkcs11PooledSession Take(ISlot found, int foundEpoch)
    {
        while (_idle.TryTake(out var pooled))
        {
            if (pooled.Epoch == foundEpoch && pooled.ModuleGeneration == _module.Generation)
            {
                return pooled;
            }

            Discard(pooled);
        }

        var generation = _module.Generation;
        ISession session;
        try
        {
            session = found.OpenSession(SessionType.ReadOnly);
        }
        catch (Pkcs11Exception ex)
        {
            if (Pkcs11Errors.IsSessionLost(ex.RV))
            {
                Invalidate(foundEpoch, Pkcs11Errors.IsHandleDead(ex.RV));
                throw Pkcs11Errors.TokenNotFound(TokenLabel);
            }

            throw Pkcs11Errors.Failed(TokenLabel, "C_OpenSession", ex.RV, ex);
        }

        try
        {
            Login(session);
        }
        catch (Pkcs11Exception ex)
        {
            CloseQuietly(session);
            if (Pkcs11Errors.IsSessionLost(ex.RV))
            {
                Invalidate(foundEpoch, Pkcs11Errors.IsHandleDead(ex.RV));
            }

            throw Pkcs11Errors.Failed(TokenLabel, "C_Login", ex.RV, ex);
        }
        catch
        {
            CloseQuietly(session);
            throw;
        }

        return new Pkcs11PooledSession(found, session, TokenLabel, foundEpoch, generation);
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
            var failure = ex.RV == CKR.CKR_PIN_LOCKED ? Pkcs11Errors.PinLocked(TokenLabel) : Pkcs11Errors.WrongPin(TokenLabel);
            Volatile.Write(ref _loginFailure, failure);
            throw Pkcs11Errors.Copy(failure);
        }
    }

    // Not under the module's call lock: a token that is not found may need a re-initialisation.
    private (ISlot Slot, int Epoch) FindToken()
    {
        lock (_connectionGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_slot is not null && _slotGeneration == _module.Generation)
            {
                return (_slot, _epoch);
            }

            if (_slot is not null)
            {
                _epoch++;
                _slot = null;
            }

            if (_lookupFailure is not null && Stopwatch.GetElapsedTime(_lookupFailedAt) < RetryInterval)
            {
                throw Pkcs11Errors.Copy(_lookupFailure);
            }

            try
            {
                var (found, generation) = Search();
                if (found is null && _module.TryReinitialize())
                {
                    (found, generation) = Search();
                }

                if (found is not null)
                {
                    _slot = found;
                    _slotGeneration = generation;
                    _lookupFailure = null;
                    return (_slot, _epoch);
                }

                _lookupFailure = Pkcs11Errors.TokenNotFound(TokenLabel);
            }
            catch (Pkcs11Exception ex)
            {
                _lookupFailure = Pkcs11Errors.Failed(TokenLabel, "C_GetSlotList", ex.RV);
            }

            _lookupFailedAt = Stopwatch.GetTimestamp();
            throw Pkcs11Errors.Copy(_lookupFailure);
        }
    }

    private (ISlot? Slot, int Generation) Search()
    {
        _module.EnterCall();
        try
        {
            var generation = _module.Generation;
            return (Find(_module.Library, _options.TokenLabel, _options.TokenSerial), generation);
        }
        finally
        {
            _module.ExitCall();
        }
    }

    /// <summary>The slot whose token has this label (and serial), or null.</summary>
    public static ISlot? Find(IPkcs11Library library, string tokenLabel, string? tokenSerial)
    {
        foreach (var candidate in library.GetSlotList(SlotsType.WithTokenPresent))
        {
            ITokenInfo info;
            try
            {
                info = candidate.GetTokenInfo();
            }
            catch (Pkcs11Exception)
            {
                continue;
            }

            if (info.Label.Trim() == tokenLabel && (tokenSerial is null || info.SerialNumber.Trim() == tokenSerial))
            {
                return candidate;
            }
        }

        return null;
    }

    // Holds the module's call lock. A session of an older module generation, or of a connection
    // whose sessions died, has a dead handle whose number may belong to a live session now (ours or
    // someone else's): closing it could pull that session from under a running call. Abandoned.
    private void Discard(Pkcs11PooledSession session)
    {
        if (session.ModuleGeneration != _module.Generation || session.Epoch < Volatile.Read(ref _abandonBelow))
        {
            session.Abandon();
        }
        else
        {
            session.Close();
        }
    }

    private void Return(Pkcs11PooledSession session)
    {
        if (session.Epoch == Volatile.Read(ref _epoch) && session.ModuleGeneration == _module.Generation && !_disposed)
        {
            _idle.Add(session);
        }
        else
        {
            Discard(session);
        }
    }

    private void Invalidate(int seenEpoch, bool handlesDead)
    {
        lock (_connectionGate)
        {
            if (seenEpoch == _epoch)
            {
                _epoch++;
                _slot = null;
            }

            if (handlesDead && _abandonBelow <= seenEpoch)
            {
                Volatile.Write(ref _abandonBelow, seenEpoch + 1);
            }
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
