using System.Security.Cryptography;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>
/// The software root-key keystore: a key ring sealed in one file (see <see cref="KeystoreFileFormat"/>),
/// or held only in memory for <c>serve --dev</c>. Every change takes the keystore's lock, reloads the
/// file, applies the change to what is on disk and saves atomically, so concurrent
/// <c>kms-plugin keystore</c> commands cannot lose each other's keys. There is no delete verb: material
/// is never dropped. Methods are serialised; dispose to zero the material and the derived key.
/// </summary>
internal sealed class KeystoreFile : IDisposable
{
    private readonly object _gate = new();
    private readonly KeystoreOptions _options;
    private readonly KeystoreHeader? _header;
    private readonly byte[]? _fileKey;
    private KeyRing _ring;
    private bool _disposed;

    private KeystoreFile(string? path, KeystoreOptions options, KeystoreHeader? header, byte[]? fileKey, KeyRing ring)
    {
        Path = path;
        _options = options;
        _header = header;
        _fileKey = fileKey;
        _ring = ring;
    }

    /// <summary>The file as given by the caller; null for an in-memory keystore.</summary>
    public string? Path { get; }

    public bool IsInMemory => Path is null;

    /// <summary>
    /// Creates a keystore file holding one primary root key. Refuses when anything exists at
    /// <paramref name="path"/>. The file is created with mode 0600.
    /// </summary>
    public static KeystoreFile Create(string path, ReadOnlySpan<byte> passphrase, KeystoreOptions? options = null, DateTimeOffset? primaryExpiresAt = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= KeystoreOptions.Default;
        KeystorePaths.RequireUnix();
        KeyRingSeal.RequirePassphrase(passphrase);
        if (options.Kdf.Problem(options.AllowWeakKdfForTests) is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        // Checked before the (slow) derivation for a quick answer, and again under the lock for correctness.
        KeystorePaths.RefuseExisting(path);
        var _ring = KeyRing.CreateNew(options.TimeProvider.GetUtcNow(), primaryExpiresAt);
        var _header = new KeystoreHeader(options.Kdf, RandomNumberGenerator.GetBytes(KeystoreKdfParameters.SaltSize));
        var keystore = new KeystoreFile(path, options, _header, KeyRingSeal.DeriveFileKey(_header, passphrase), _ring);
        try
        {
            using (KeystoreLock.Acquire(path, path, options.LockTimeout))
            {
                KeystorePaths.RefuseExisting(path);
                keystore.Save(path, _ring, overwrite: false);
            }

            return keystore;
        }
        catch
        {
            keystore.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a keystore file. Refuses a file that group or others may access, and reports a wrong
    /// passphrase and any modification of the file alike.
    /// </summary>
    public static KeystoreFile Load(string path, ReadOnlySpan<byte> passphrase, KeystoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= KeystoreOptions.Default;
        KeystorePaths.RequireUnix();
        KeyRingSeal.RequirePassphrase(passphrase);
        return FromContent(path, KeystoreFileReader.ReadContent(path, path), passphrase, options);
    }

    /// <summary>
    /// <see cref="Load"/> after the file is read: parse, check the KDF cost, derive, open. Separate so
    /// that property tests and the fuzz target reach every parser without the file system.
    /// </summary>
    internal static KeystoreFile FromContent(string path, byte[] content, ReadOnlySpan<byte> passphrase, KeystoreOptions options)
    {
        KeyRingSeal.RequirePassphrase(passphrase);
        var (header, sealedRing) = KeystoreFileReader.Parse(content, path);
        if (header.Kdf.Problem(options.AllowWeakKdfForTests) is { } problem)
        {
            throw KeystoreErrors.Unavailable(path, $"not usable: {problem}");
        }

        var _fileKey = KeyRingSeal.DeriveFileKey(header, passphrase);
        try
        {
            var _ring = KeyRingSeal.Open(path, header, _fileKey, sealedRing);
            return new KeystoreFile(path, options, header, _fileKey, _ring);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(_fileKey);
            throw;
        }
    }

    /// <summary>A keystore with one random primary key that lives only in this process (<c>serve --dev</c>).</summary>
    public static KeystoreFile CreateInMemory(KeystoreOptions? options = null)
    {
        options ??= KeystoreOptions.Default;
        return new KeystoreFile(null, options, null, null, KeyRing.CreateNew(options.TimeProvider.GetUtcNow(), null));
    }

    /// <summary>Every key, in creation order, without material.</summary>
    public IReadOnlyList<KeystoreKeyInfo> ListKeys()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _ring.Describe();
        }
    }

    public KeystoreKeyInfo PrimaryKey
    {
        get
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                return _ring.Primary.Info;
            }
        }
    }

    /// <summary>
    /// Adds a new root key as <b>decrypt-only</b>. It wraps nothing until <see cref="Promote"/>, so the
    /// updated file can reach every control-plane node first; otherwise a node without the new key
    /// could not decrypt what another node wrapped with it.
    /// </summary>
    public KeystoreKeyInfo AddKey(DateTimeOffset? expiresAt = null)
    {
        KeyRingEntry? added = null;
        Change(current => current.AddKey(_options.TimeProvider.GetUtcNow(), expiresAt, out added));
        return added!.Info;
    }

    /// <summary>Makes <paramref name="id"/> the primary; the old primary turns decrypt-only. Refused for disabled or expired keys.</summary>
    public KeystoreKeyInfo Promote(string id) => Change(current => current.Promote(id, _options.TimeProvider.GetUtcNow()), id);

    /// <summary>Decrypt-only → disabled (kept, refused for every use). Refused for the primary.</summary>
    public KeystoreKeyInfo Retire(string id) => Change(current => current.Retire(id), id);

    /// <summary>Disabled → decrypt-only.</summary>
    public KeystoreKeyInfo Enable(string id) => Change(current => current.Enable(id), id);

    /// <summary>
    /// Raises the promotion generation above <paramref name="runningGeneration"/>, keys unchanged: the
    /// explicit way back to an older copy of the keystore, which running plugins otherwise refuse as a
    /// rollback. The primary then gets a key_id no plugin has issued.
    /// </summary>
    public KeystoreKeyInfo Rollback(long runningGeneration) =>
        Change(current => current.RaisedAbove(runningGeneration)).Primary.Info;

    /// <summary>The ring's promotion generation (the <c>@n</c> of the primary's KMS v2 key_id).</summary>
    public long Generation => WithRing(ring => ring.Generation);

    /// <summary>Runs <paramref name="use"/> on the current ring; it must not keep the ring or its material.</summary>
    internal T WithRing<T>(Func<KeyRing, T> use)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return use(_ring);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            KeyRingMaterial.ZeroUnshared(_ring, kept: null);
            if (_fileKey is not null)
            {
                CryptographicOperations.ZeroMemory(_fileKey);
            }
        }
    }

    private KeystoreKeyInfo Change(Func<KeyRing, KeyRing> change, string id) =>
        Change(change).Find(id)!.Info;

    private KeyRing Change(Func<KeyRing, KeyRing> change)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Path is null)
            {
                Replace(change(_ring));
                return _ring;
            }

            var target = KeystorePaths.WriteTarget(Path);
            using (KeystoreLock.Acquire(target, Path, _options.LockTimeout))
            {
                // Another command may have changed the file since we loaded it: change what is on disk.
                var fresh = Reload(target);
                KeyRing? next = null;
                try
                {
                    next = change(fresh);
                    if (!ReferenceEquals(next, fresh))
                    {
                        Save(target, next, overwrite: true);
                    }
                }
                catch
                {
                    KeyRingMaterial.ZeroUnshared(fresh, kept: _ring);
                    if (next is not null)
                    {
                        KeyRingMaterial.ZeroUnshared(next, kept: _ring);
                    }

                    throw;
                }

                KeyRingMaterial.ZeroUnshared(fresh, kept: next);
                Replace(next);
                return _ring;
            }
        }
    }

    private KeyRing Reload(string target)
    {
        var (current, sealedRing) = KeystoreFileReader.Read(target, Path);
        if (!current.SameKdfInputs(_header!))
        {
            throw KeystoreErrors.Unavailable(Path!, "the file was re-created with a different passphrase or salt since it was loaded; load it again");
        }

        return KeyRingSeal.Open(Path!, _header!, _fileKey!, sealedRing);
    }

    private void Save(string target, KeyRing next, bool overwrite)
    {
        var sealedRing = KeyRingSeal.Seal(next, _header!, _fileKey!);

        try
        {
            AtomicFile.Write(target, KeystoreFileFormat.Write(_header!, sealedRing), overwrite, _options.AfterTempFileWritten);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw KeystoreErrors.Unavailable(Path!, $"cannot write the file: {e.Message}", e);
        }
    }

    private void Replace(KeyRing next)
    {
        if (!ReferenceEquals(next, _ring))
        {
            KeyRingMaterial.ZeroUnshared(_ring, kept: next);
            _ring = next;
        }
    }
}
