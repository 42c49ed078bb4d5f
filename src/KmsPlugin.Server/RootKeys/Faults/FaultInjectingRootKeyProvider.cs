using System.Runtime.CompilerServices;
using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.Server.RootKeys.Faults;

/// <summary>
/// Decorates a root-key provider so that wrap and unwrap fail, hang, slow down or fail every k-th
/// time, switchable at run time. For tests, and for `serve --diagnostics-faults-file`; never on
/// otherwise. Key lookups (<see cref="Primary"/>, <see cref="GetForDecrypt"/>) are not faulted:
/// they answer from memory in every real provider, and neither is the key listing.
/// </summary>
internal sealed class FaultInjectingRootKeyProvider : IRootKeyProvider, IRootKeyCatalog
{
    private readonly IRootKeyProvider _inner;
    private readonly ConditionalWeakTable<IRootKey, FaultInjectingRootKey> _keys = new();
    private readonly Lock _primaryLock = new();
    private PrimaryRootKey? _innerPrimary;
    private PrimaryRootKey? _primary;
    private RootKeyFaults _faults = RootKeyFaults.None;
    private long _wrapCalls;
    private long _unwrapCalls;
    private long _inFlight;
    private long _injectedFailures;

    public FaultInjectingRootKeyProvider(IRootKeyProvider inner)
    {
        _inner = inner;
    }

    public IRootKeyProvider Inner => _inner;

    public string Name => _inner.Name;

    public RootKeyFaults Faults
    {
        get => Volatile.Read(ref _faults);
        set => Volatile.Write(ref _faults, value ?? RootKeyFaults.None);
    }

    /// <summary>Wrap calls entered since start, faulted or not.</summary>
    public long WrapCalls => Interlocked.Read(ref _wrapCalls);

    /// <summary>Unwrap calls entered since start, faulted or not.</summary>
    public long UnwrapCalls => Interlocked.Read(ref _unwrapCalls);

    /// <summary>Wrap and unwrap calls entered and not yet returned.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    public long InjectedFailures => Interlocked.Read(ref _injectedFailures);

    /// <summary>
    /// The same instance until the inner primary changes: the envelope engine compares primaries
    /// to notice a promotion, and a fresh wrapper per read would look like one on every call.
    /// </summary>
    public PrimaryRootKey Primary
    {
        get
        {
            var inner = _inner.Primary;
            lock (_primaryLock)
            {
                if (!Equals(inner, _innerPrimary))
                {
                    _innerPrimary = inner;
                    _primary = new PrimaryRootKey(Decorate(inner.Key), inner.Generation) { ExpiresAt = inner.ExpiresAt };
                }

                return _primary!;
            }
        }
    }

    /// <summary>Not faulted, and not decorated: Status reads only its key_id.</summary>
    public PrimaryRootKey? KnownPrimary => _inner.KnownPrimary;

    public IRootKey GetForDecrypt(string keyId) => Decorate(_inner.GetForDecrypt(keyId));

    public long KeyRingVersion => _inner.KeyRingVersion;

    /// <summary>The inner provider's listing: check values are computed at load, never through a faulted call.</summary>
    public IReadOnlyList<RootKeyDescription> DescribeKeys() => _inner is IRootKeyCatalog catalog
        ? catalog.DescribeKeys()
        : throw new NotSupportedException($"the \"{_inner.Name}\" root-key provider cannot list its keys");

    public bool NeverIssued(string rootKeyId, long generation) => _inner.NeverIssued(rootKeyId, generation);

    /// <summary>Counts a call in; returns its number among calls of the same operation (from 1).</summary>
    internal long Enter(bool wrap)
    {
        Interlocked.Increment(ref _inFlight);
        return wrap ? Interlocked.Increment(ref _wrapCalls) : Interlocked.Increment(ref _unwrapCalls);
    }

    internal void Leave() => Interlocked.Decrement(ref _inFlight);

    internal void CountInjectedFailure() => Interlocked.Increment(ref _injectedFailures);

    private FaultInjectingRootKey Decorate(IRootKey key) => _keys.GetValue(key, k => new FaultInjectingRootKey(k, this));
}
