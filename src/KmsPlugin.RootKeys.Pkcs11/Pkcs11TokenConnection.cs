using System.Diagnostics;
using KmsPlugin.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// The session pool's connection to its token: the slot the token was found in and the epoch of
/// the sessions opened on it. The token is found by label (and serial) on first use and again after
/// it was lost (a re-initialised token comes back in another slot); a lost connection starts a new
/// epoch. When the token cannot be found, lookups are retried at most once a second, each after
/// re-initialising the module; calls in between fail fast with the remembered reason.
/// </summary>
internal sealed class Pkcs11TokenConnection
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private readonly Pkcs11Module _module;
    private readonly Pkcs11ProviderOptions _options;
    private readonly object _gate = new();
    private ISlot? _slot;
    private int _slotGeneration;
    private int _abandonBelow;
    private int _epoch;
    private KmsException? _lookupFailure;
    private long _lookupFailedAt;
    private bool _closed;

    public Pkcs11TokenConnection(Pkcs11Module module, Pkcs11ProviderOptions options)
    {
        _module = module;
        _options = options;
    }

    /// <summary>The current epoch: sessions of another one belong to a lost connection.</summary>
    public int Epoch => Volatile.Read(ref _epoch);

    /// <summary>Sessions of an epoch below this one have dead handles.</summary>
    public int AbandonBelow => Volatile.Read(ref _abandonBelow);

    public bool IsClosed => _closed;

    /// <returns>False if it was closed already.</returns>
    public bool Close()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _closed = true;
            _epoch++;
            _slot = null;
            return true;
        }
    }

    // Not under the module's call lock: a token that is not found may need a re-initialisation.
    public (ISlot Slot, int Epoch) FindToken()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, typeof(Pkcs11SessionPool));
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

            return Connect();
        }
    }

    /// <summary>Ends the connection of <paramref name="seenEpoch"/>, if it is still the current one.</summary>
    public void Invalidate(int seenEpoch, bool handlesDead)
    {
        lock (_gate)
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

    // Holds _gate.
    private (ISlot Slot, int Epoch) Connect()
    {
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

            _lookupFailure = Pkcs11Errors.TokenNotFound(_options.TokenLabel);
        }
        catch (Pkcs11Exception ex)
        {
            _lookupFailure = Pkcs11Errors.Failed(_options.TokenLabel, "C_GetSlotList", ex.RV);
        }

        _lookupFailedAt = Stopwatch.GetTimestamp();
        throw Pkcs11Errors.Copy(_lookupFailure);
    }

    private (ISlot? Slot, int Generation) Search()
    {
        _module.EnterCall();
        try
        {
            var generation = _module.Generation;
            return (Pkcs11SlotFinder.Find(_module.Library, _options.TokenLabel, _options.TokenSerial), generation);
        }
        finally
        {
            _module.ExitCall();
        }
    }
}
