using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// Wraps a real provider to count root-key calls and to make the root key unreachable on demand,
/// as a token that was pulled or an HSM that stopped answering would be.
/// </summary>
internal sealed class ObservedKeyProvider : IRootKeyProvider
{
    private readonly IRootKeyProvider _inner;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<PrimaryRootKey, PrimaryRootKey> _wrapped = new();
    private int _calls;

    public ObservedKeyProvider(IRootKeyProvider inner)
    {
        _inner = inner;
    }

    public string Name => _inner.Name;

    public int RootKeyCalls => Volatile.Read(ref _calls);

    public bool Unreachable { get; set; }

    public PrimaryRootKey Primary
    {
        get
        {
            var primary = _inner.Primary;
            return _wrapped.GetOrAdd(primary, p => new PrimaryRootKey(new ObservedKey(p.Key, this), p.Generation));
        }
    }

    public PrimaryRootKey? KnownPrimary => _inner.KnownPrimary;

    public IRootKey GetForDecrypt(string keyId) => new ObservedKey(_inner.GetForDecrypt(keyId), this);

    public long KeyRingVersion => _inner.KeyRingVersion;

    public bool NeverIssued(string rootKeyId, long generation) => _inner.NeverIssued(rootKeyId, generation);

    private sealed class ObservedKey(IRootKey inner, ObservedKeyProvider owner) : IRootKey
    {
        public string Id => inner.Id;

        public ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, ReadOnlyMemory<byte> context, CancellationToken cancellationToken)
        {
            owner.Called();
            return inner.WrapAsync(dataKey, context, cancellationToken);
        }

        public ValueTask<int> UnwrapAsync(ReadOnlyMemory<byte> wrappedKey, ReadOnlyMemory<byte> context, Memory<byte> destination, CancellationToken cancellationToken)
        {
            owner.Called();
            return inner.UnwrapAsync(wrappedKey, context, destination, cancellationToken);
        }
    }

    private void Called()
    {
        Interlocked.Increment(ref _calls);
        if (Unreachable)
        {
            throw new KmsException(KmsErrorKind.ProviderUnavailable, "root key provider not reachable (test)");
        }
    }
}
