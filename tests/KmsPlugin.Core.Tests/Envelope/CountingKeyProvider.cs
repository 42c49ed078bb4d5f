using System.Security.Cryptography;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.Core.Tests.Envelope;

/// <summary>
/// Root keys for engine tests that count every root-key call, so a test can prove the hot path
/// makes none. Unwraps can be held at a gate to prove concurrent misses share one call.
/// </summary>
internal sealed class CountingKeyProvider : IRootKeyProvider
{
    private readonly Dictionary<string, CountingKey> _keys = new();
    private readonly HashSet<string> _disabled = new();
    private readonly HashSet<string> _issued = new(StringComparer.Ordinal);
    private long _keyRingVersion;
    private int _lookups;

    public CountingKeyProvider(string primaryId = "kek-test-1")
    {
        Primary = new PrimaryRootKey(Add(primaryId), 1);
        _issued.Add(Primary.KeyId);
    }

    public string Name => "counting";

    public PrimaryRootKey Primary { get; private set; }

    public PrimaryRootKey? KnownPrimary => Primary;

    public int Wraps => _keys.Values.Sum(k => k.Wraps);

    /// <summary>Calls of <see cref="GetForDecrypt"/>.</summary>
    public int Lookups => Volatile.Read(ref _lookups);

    /// <summary>Moves with every change to the ring, as a real provider's does with every reload.</summary>
    public long KeyRingVersion => Interlocked.Read(ref _keyRingVersion);

    public int Unwraps => _keys.Values.Sum(k => k.Unwraps);

    public TaskCompletionSource? UnwrapGate { get; set; }

    public CountingKey Add(string id)
    {
        var key = new CountingKey(id, this);
        _keys.Add(id, key);
        Interlocked.Increment(ref _keyRingVersion);
        return key;
    }

    public void Promote(string id)
    {
        Primary = new PrimaryRootKey(_keys[id], Primary.Generation + 1);
        _issued.Add(Primary.KeyId);
        Interlocked.Increment(ref _keyRingVersion);
    }

    public bool NeverIssued(string rootKeyId, long generation) =>
        _keys.ContainsKey(rootKeyId) && !_issued.Contains(new PrimaryRootKey(_keys[rootKeyId], generation).KeyId);

    public void Disable(string id)
    {
        _disabled.Add(id);
        Interlocked.Increment(ref _keyRingVersion);
    }

    /// <summary>Sets <see cref="KeyRingVersion"/>; 0 says "not settled, ask every time".</summary>
    public void SetKeyRingVersion(long version) => Interlocked.Exchange(ref _keyRingVersion, version);

    public IRootKey GetForDecrypt(string keyId)
    {
        Interlocked.Increment(ref _lookups);
        if (!_keys.TryGetValue(keyId, out var key))
        {
            throw KmsException.UnknownKey(keyId);
        }

        if (_disabled.Contains(keyId))
        {
            throw new KmsException(KmsErrorKind.KeyUnavailable, $"root key \"{keyId}\" is disabled");
        }

        return key;
    }

    internal sealed class CountingKey : IRootKey
    {
        private readonly byte[] _material = RandomNumberGenerator.GetBytes(32);
        private readonly CountingKeyProvider _owner;
        private int _wraps;
        private int _unwraps;

        public CountingKey(string id, CountingKeyProvider owner)
        {
            Id = id;
            _owner = owner;
        }

        public string Id { get; }

        public int Wraps => _wraps;

        public int Unwraps => _unwraps;

        public ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, ReadOnlyMemory<byte> context, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _wraps);
            using var gcm = new AesGcm(_material, 16);
            var wrapped = new byte[12 + dataKey.Length + 16];
            RandomNumberGenerator.Fill(wrapped.AsSpan(0, 12));
            gcm.Encrypt(wrapped.AsSpan(0, 12), dataKey.Span, wrapped.AsSpan(12, dataKey.Length), wrapped.AsSpan(^16), context.Span);
            return ValueTask.FromResult(wrapped);
        }

        public async ValueTask<int> UnwrapAsync(ReadOnlyMemory<byte> wrappedKey, ReadOnlyMemory<byte> context, Memory<byte> destination, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _unwraps);
            if (_owner.UnwrapGate is { } gate)
            {
                await gate.Task;
            }

            using var gcm = new AesGcm(_material, 16);
            var length = wrappedKey.Length - 28;
            try
            {
                gcm.Decrypt(wrappedKey.Span[..12], wrappedKey.Span[12..^16], wrappedKey.Span[^16..], destination.Span[..length], context.Span);
            }
            catch (AuthenticationTagMismatchException)
            {
                throw KmsException.CiphertextRejected("data key unwrap failed");
            }

            return length;
        }
    }
}
