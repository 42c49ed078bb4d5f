using System.Security.Cryptography;
using System.Text;
using KmsPlugin.Core.Crypto;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.Core.Envelope;

/// <summary>
/// Seals and opens plugin envelopes. The hot paths (encrypt with the active DEK, decrypt with a
/// cached DEK) never call the root-key provider; only DEK rotation and cache misses do.
/// </summary>
internal sealed class EnvelopeEncryptor : IDisposable
{
    private readonly IRootKeyProvider _provider;
    private readonly DataEncryptionKeyRotationPolicy _rotation;
    private readonly TimeProvider _time;
    private readonly TimeSpan _rootKeyTimeout;
    private readonly DataEncryptionKeyCache _cache;
    private readonly SemaphoreSlim _rotationLock = new(1, 1);
    private ActiveDataKey? _active;
    private long _rotations;
    private long _envelopesParsed;

    public EnvelopeEncryptor(IRootKeyProvider provider, EnvelopeOptions options, TimeProvider time)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(options));
        }

        _provider = provider;
        _rotation = options.Rotation;
        _time = time;
        _rootKeyTimeout = options.RootKeyCallTimeout;
        _cache = new DataEncryptionKeyCache(options.DataKeyCacheCapacity);
    }

    public DataEncryptionKeyCache Cache => _cache;

    public long DataKeyRotations => Interlocked.Read(ref _rotations);

    public IRootKeyProvider Provider => _provider;

    /// <summary>Envelope headers parsed by <see cref="DecryptAsync(ReadOnlyMemory{byte}, ExpectedRootKey?, CancellationToken)"/>: one per call, hit or miss.</summary>
    public long EnvelopesParsed => Interlocked.Read(ref _envelopesParsed);

    public ValueTask<SealedEnvelope> EncryptAsync(ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken)
    {
        var active = Volatile.Read(ref _active);
        if (active is not null && TrySealWith(active, plaintext.Span, out var envelope))
        {
            return ValueTask.FromResult(new SealedEnvelope(envelope, active.RootKey));
        }

        return EncryptAfterRotationAsync(active, plaintext, cancellationToken);
    }

    public ValueTask<byte[]> DecryptAsync(ReadOnlyMemory<byte> envelope, CancellationToken cancellationToken) =>
        DecryptAsync(envelope, expected: null, cancellationToken);

    /// <summary>
    /// Opens <paramref name="envelope"/>, parsing its header once whether its DEK is cached or not.
    /// With <paramref name="expected"/> (KMS v2's key_id), an envelope sealed under another root key
    /// is refused before any key is looked up.
    /// </summary>
    public ValueTask<byte[]> DecryptAsync(ReadOnlyMemory<byte> envelope, ExpectedRootKey? expected, CancellationToken cancellationToken)
    {
        var parsed = new ParsedEnvelope(envelope);
        Interlocked.Increment(ref _envelopesParsed);
        var parts = parsed.Parts;
        expected?.Check(parts.KeyId);
        var entry = _cache.TryAcquire(parts.WrappedKey);
        if (entry is null)
        {
            return DecryptAfterUnwrapAsync(parsed, cancellationToken);
        }

        try
        {
            return ValueTask.FromResult(Open(entry, parts));
        }
        finally
        {
            entry.Key.Release();
        }
    }

    /// <summary>The root key id in an envelope's header, read without decrypting anything.</summary>
    public static string ReadRootKeyId(ReadOnlySpan<byte> envelope) =>
        Encoding.ASCII.GetString(EnvelopeFormat.Parse(envelope).KeyId);

    public void Dispose()
    {
        Interlocked.Exchange(ref _active, null)?.Key.Release();
        _cache.Dispose();
        _rotationLock.Dispose();
    }

    private bool TrySealWith(ActiveDataKey active, ReadOnlySpan<byte> plaintext, out byte[] envelope)
    {
        envelope = [];
        var primaryChanged = active.RootKey != _provider.Primary;
        var uses = Interlocked.Increment(ref active.Uses);
        if (_rotation.MustRotate(uses, _time.GetElapsedTime(active.CreatedTimestamp), primaryChanged) || !active.Key.TryAcquire())
        {
            return false;
        }

        try
        {
            var header = active.Header;
            var output = new byte[EnvelopeFormat.SealedLength(header.Length, plaintext.Length)];
            header.CopyTo(output, 0);
            active.Key.Seal(plaintext, header, output.AsSpan(header.Length));
            envelope = output;
            return true;
        }
        finally
        {
            active.Key.Release();
        }
    }

    private async ValueTask<SealedEnvelope> EncryptAfterRotationAsync(ActiveDataKey? stale, ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken)
    {
        while (true)
        {
            await RotateAsync(stale, cancellationToken).ConfigureAwait(false);
            var active = Volatile.Read(ref _active)!;
            if (TrySealWith(active, plaintext.Span, out var envelope))
            {
                return new SealedEnvelope(envelope, active.RootKey);
            }

            stale = active;
        }
    }

    private async Task RotateAsync(ActiveDataKey? stale, CancellationToken cancellationToken)
    {
        await _rotationLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!ReferenceEquals(Volatile.Read(ref _active), stale))
            {
                return;
            }

            var primary = _provider.Primary;
            var rootKey = primary.Key;
            var context = EnvelopeFormat.BuildWrapContext(rootKey.Id);
            var keyBytes = RandomNumberGenerator.GetBytes(DataEncryptionKey.KeySize);
            byte[] wrapped;
            try
            {
                wrapped = await CallRootKeyAsync(token => rootKey.WrapAsync(keyBytes, context, token), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                CryptographicOperations.ZeroMemory(keyBytes);
                throw;
            }

            var key = new DataEncryptionKey(keyBytes);
            var header = EnvelopeFormat.BuildHeader(context, wrapped);
            _cache.Add(wrapped, rootKey.Id, key);
            var previous = Interlocked.Exchange(ref _active, new ActiveDataKey(key, primary, header, _time.GetTimestamp()));
            previous?.Key.Release();
            Interlocked.Increment(ref _rotations);
        }
        finally
        {
            _rotationLock.Release();
        }
    }

    private async ValueTask<byte[]> DecryptAfterUnwrapAsync(ParsedEnvelope envelope, CancellationToken cancellationToken)
    {
        var (rootKeyId, wrapped, context) = ReadKeyReference(envelope.Parts);
        var rootKey = _provider.GetForDecrypt(rootKeyId);
        var entry = await _cache.AcquireOrUnwrapAsync(
            wrapped,
            rootKeyId,
            wrappedKey => UnwrapAsync(rootKey, wrappedKey, context),
            cancellationToken).ConfigureAwait(false);
        try
        {
            return Open(entry, envelope.Parts);
        }
        finally
        {
            entry.Key.Release();
        }
    }

    private static (string RootKeyId, ReadOnlyMemory<byte> WrappedKey, byte[] Context) ReadKeyReference(EnvelopeParts parts)
    {
        return (Encoding.ASCII.GetString(parts.KeyId), parts.WrappedKey.ToArray(), parts.WrapContext.ToArray());
    }

    private async ValueTask<DataEncryptionKey> UnwrapAsync(IRootKey rootKey, byte[] wrappedKey, byte[] context)
    {
        var buffer = new byte[Math.Max(wrappedKey.Length, DataEncryptionKey.KeySize)];
        try
        {
            // Not the caller's token: other callers may be waiting on this same unwrap.
            var written = await CallRootKeyAsync(token => rootKey.UnwrapAsync(wrappedKey, context, buffer, token), CancellationToken.None).ConfigureAwait(false);
            if (written != DataEncryptionKey.KeySize)
            {
                throw KmsException.CiphertextRejected("wrapped data key has the wrong length");
            }

            return new DataEncryptionKey(buffer.AsSpan(0, DataEncryptionKey.KeySize).ToArray());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    /// <summary>Bounds a root-key call by <see cref="EnvelopeOptions.RootKeyCallTimeout"/>, even one that ignores its token.</summary>
    private async ValueTask<T> CallRootKeyAsync<T>(Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_rootKeyTimeout);
        try
        {
            return await call(timeout.Token).AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new KmsException(
                KmsErrorKind.ProviderUnavailable,
                $"root key provider did not answer within {_rootKeyTimeout.TotalSeconds:0.###}s");
        }
    }

    private byte[] Open(CachedDataKey entry, EnvelopeParts parts)
    {
        if (!parts.KeyId.SequenceEqual(entry.RootKeyIdBytes))
        {
            throw KmsException.CiphertextRejected("authentication failed");
        }

        var keyRingVersion = _provider.KeyRingVersion;
        if (!entry.WasCheckedAt(keyRingVersion))
        {
            // Throws when the root key has been disabled since the DEK was cached.
            _provider.GetForDecrypt(entry.RootKeyId);
            entry.MarkCheckedAt(keyRingVersion);
        }

        var plaintext = new byte[AesGcmSealer.PlaintextLength(parts.Sealed.Length)];
        if (!entry.Key.TryOpen(parts.Sealed, parts.Header, plaintext))
        {
            throw KmsException.CiphertextRejected("authentication failed");
        }

        return plaintext;
    }
}
