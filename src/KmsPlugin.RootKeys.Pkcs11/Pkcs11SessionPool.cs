using System.Collections.Concurrent;
using System.Diagnostics;
using KmsPlugin.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// A bounded pool of logged-in sessions on one token: one session per concurrent call (a session
/// used from two threads corrupts SoftHSM), at most <see cref="Pkcs11ProviderOptions.MaxSessions"/>.
/// <list type="bullet">
/// <item>The token is found by label (and serial) on first use and again after it was lost: a
/// re-initialised token comes back in another slot (<see cref="Pkcs11TokenConnection"/>).</item>
/// <item>Every new session logs in; a wrong PIN is remembered and never retried
/// (<see cref="Pkcs11SessionOpener"/>).</item>
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
    private readonly Pkcs11Module _module;
    private readonly Pkcs11ProviderOptions _options;
    private readonly SemaphoreSlim _gate;
    private readonly ConcurrentBag<Pkcs11PooledSession> _idle = [];
    private readonly Pkcs11TokenConnection _connection;
    private readonly Pkcs11SessionOpener _opener;
    private int _checkedEpoch = -1;

    public Pkcs11SessionPool(Pkcs11Module module, Pkcs11ProviderOptions options)
    {
        _module = module;
        _options = options;
        _connection = new Pkcs11TokenConnection(module, options);
        _opener = new Pkcs11SessionOpener(_connection, options);
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

        var work = StartOnPoolThread(name, operation);
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

    /// <summary>Blocking form of <see cref="RunAsync{T}"/>, for start-up and reconnect checks.</summary>
    public T Run<T>(string name, Func<Pkcs11PooledSession, T> operation) =>
        RunAsync(name, operation, CancellationToken.None).GetAwaiter().GetResult();

    public void Dispose()
    {
        if (!_connection.Close())
        {
            return;
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

        _opener.Dispose();
    }

    // The call goes on after its caller left; its failure must not surface as an unobserved exception.
    private static void Observe(Task work) =>
        _ = work.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    // Holds a place in _gate, which the call gives back when it ends.
    private Task<T> StartOnPoolThread<T>(string name, Func<Pkcs11PooledSession, T> operation)
    {
        try
        {
            return Task.Run(() =>
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
    }

    private T Execute<T>(string name, Func<Pkcs11PooledSession, T> operation)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (found, foundEpoch) = _connection.FindToken();
            _module.EnterCall();
            try
            {
                var session = Take(found, foundEpoch);
                if (TryOnSession(name, operation, session, lastAttempt: attempt > 0, out var result))
                {
                    return result;
                }
            }
            finally
            {
                _module.ExitCall();
            }
        }
    }

    // Holds the module's call lock. False when the session was lost and the call may be retried.
    private bool TryOnSession<T>(string name, Func<Pkcs11PooledSession, T> operation, Pkcs11PooledSession session, bool lastAttempt, out T result)
    {
        try
        {
            _options.BeforeCall?.Invoke();
            CheckConnection(session);
            result = operation(session);
            Return(session);
            return true;
        }
        catch (Pkcs11Exception ex) when (Pkcs11Errors.IsSessionLost(ex.RV))
        {
            _connection.Invalidate(session.Epoch, Pkcs11Errors.IsHandleDead(ex.RV));
            Discard(session);
            if (lastAttempt)
            {
                throw Pkcs11Errors.Failed(TokenLabel, name, ex.RV, ex);
            }

            result = default!;
            return false;
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
        var session = _opener.Open(found, foundEpoch);
        return new Pkcs11PooledSession(found, session, TokenLabel, foundEpoch, generation);
    }

    // Holds the module's call lock. A session of an older module generation, or of a connection
    // whose sessions died, has a dead handle whose number may belong to a live session now (ours or
    // someone else's): closing it could pull that session from under a running call. Abandoned.
    private void Discard(Pkcs11PooledSession session)
    {
        if (session.ModuleGeneration != _module.Generation || session.Epoch < _connection.AbandonBelow)
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
        if (session.Epoch == _connection.Epoch && session.ModuleGeneration == _module.Generation && !_connection.IsClosed)
        {
            _idle.Add(session);
        }
        else
        {
            Discard(session);
        }
    }
}
