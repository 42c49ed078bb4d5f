using System.Globalization;
using System.Security.Cryptography;
using KmsPlugin.Core.Crypto;
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
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

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
        RequireUnix();
        RequirePassphrase(passphrase);
        if (options.Kdf.Problem(options.AllowWeakKdfForTests) is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        // Checked before the (slow) derivation for a quick answer, and again under the lock for correctness.
        RefuseExisting(path);
        var _ring = KeyRing.CreateNew(options.TimeProvider.GetUtcNow(), primaryExpiresAt);
        var _header = new KeystoreHeader(options.Kdf, RandomNumberGenerator.GetBytes(KeystoreKdfParameters.SaltSize));
        var keystore = new KeystoreFile(path, options, _header, DeriveFileKey(_header, passphrase), _ring);
        try
        {
            using (KeystoreLock.Acquire(path, path, options.LockTimeout))
            {
                RefuseExisting(path);
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
        RequireUnix();
        RequirePassphrase(passphrase);
        return FromContent(path, ReadContent(path, path), passphrase, options);
    }

    /// <summary>
    /// <see cref="Load"/> after the file is read: parse, check the KDF cost, derive, open. Separate so
    /// that property tests and the fuzz target reach every parser without the file system.
    /// </summary>
    internal static KeystoreFile FromContent(string path, byte[] content, ReadOnlySpan<byte> passphrase, KeystoreOptions options)
    {
        RequirePassphrase(passphrase);
        var (header, sealedRing) = ParseContent(content, path);
        if (header.Kdf.Problem(options.AllowWeakKdfForTests) is { } problem)
        {
            throw Unavailable(path, $"not usable: {problem}");
        }

        var _fileKey = DeriveFileKey(header, passphrase);
        try
        {
            var _ring = Open(path, header, _fileKey, sealedRing);
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
            ZeroUnshared(_ring, kept: null);
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

            var target = WriteTarget(Path);
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
                    ZeroUnshared(fresh, kept: _ring);
                    if (next is not null)
                    {
                        ZeroUnshared(next, kept: _ring);
                    }

                    throw;
                }

                ZeroUnshared(fresh, kept: next);
                Replace(next);
                return _ring;
            }
        }
    }

    private KeyRing Reload(string target)
    {
        var (current, sealedRing) = ReadFile(target, Path);
        if (!current.SameKdfInputs(_header!))
        {
            throw Unavailable(Path!, "the file was re-created with a different passphrase or salt since it was loaded; load it again");
        }

        return Open(Path!, _header!, _fileKey!, sealedRing);
    }

    private void Save(string target, KeyRing next, bool overwrite)
    {
        var plaintext = KeyRingSerializer.Serialize(next);
        byte[] sealedRing;
        try
        {
            // The derived key is reused with a fresh random nonce per save; a keystore sees few saves.
            sealedRing = AesGcmSealer.Seal(_fileKey, plaintext, _header!.ToAssociatedData());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }

        try
        {
            AtomicFile.Write(target, KeystoreFileFormat.Write(_header, sealedRing), overwrite, _options.AfterTempFileWritten);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(Path!, $"cannot write the file: {e.Message}", e);
        }
    }

    private void Replace(KeyRing next)
    {
        if (!ReferenceEquals(next, _ring))
        {
            ZeroUnshared(_ring, kept: next);
            _ring = next;
        }
    }

    /// <summary>Zeroes the material of <paramref name="dropped"/> that <paramref name="kept"/> does not share.</summary>
    private static void ZeroUnshared(KeyRing dropped, KeyRing? kept)
    {
        foreach (var entry in dropped.Entries)
        {
            if (kept is null || !kept.Entries.Any(k => ReferenceEquals(k.Material, entry.Material)))
            {
                CryptographicOperations.ZeroMemory(entry.Material);
            }
        }
    }

    private static KeyRing Open(string path, KeystoreHeader header, byte[] fileKey, byte[] sealedRing)
    {
        var plaintext = GC.AllocateArray<byte>(AesGcmSealer.PlaintextLength(sealedRing.Length), pinned: true);
        try
        {
            if (!AesGcmSealer.TryOpen(fileKey, sealedRing, header.ToAssociatedData(), plaintext))
            {
                throw Unavailable(path, "wrong passphrase or the file was modified");
            }

            return KeyRingSerializer.Deserialize(plaintext);
        }
        catch (FormatException e)
        {
            throw Unavailable(path, $"the key ring cannot be read ({e.Message})", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private static (KeystoreHeader Header, byte[] SealedRing) ReadFile(string path, string? displayPath = null) =>
        ParseContent(ReadContent(path, displayPath ?? path), displayPath ?? path);

    private static byte[] ReadContent(string path, string displayPath)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the software keystore relies on Unix file modes");
        }

        byte[] content;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

            // Checked on the open handle, so the file cannot be swapped between the check and the read.
            var mode = File.GetUnixFileMode(handle);
            if ((mode & GroupOrOthers) != 0)
            {
                var octal = Convert.ToString((int)mode, 8).PadLeft(4, '0');
                throw Unavailable(displayPath, $"file mode {octal} lets group or others access it; run chmod 600 \"{displayPath}\"");
            }

            var length = RandomAccess.GetLength(handle);
            if (length > KeystoreFileFormat.MaxFileSize)
            {
                throw Unavailable(displayPath, $"the file is larger than {KeystoreFileFormat.MaxFileSize} bytes; it is not a keystore");
            }

            content = new byte[length];
            var read = 0;
            while (read < content.Length)
            {
                var n = RandomAccess.Read(handle, content.AsSpan(read), read);
                if (n == 0)
                {
                    throw Unavailable(displayPath, "the file shrank while it was being read");
                }

                read += n;
            }
        }
        catch (FileNotFoundException e)
        {
            throw Unavailable(displayPath, "the file does not exist", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw Unavailable(displayPath, "the file does not exist", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Unavailable(displayPath, "cannot read the file: permission denied", e);
        }
        catch (IOException e)
        {
            throw Unavailable(displayPath, $"cannot read the file: {e.Message}", e);
        }

        return content;
    }

    private static (KeystoreHeader Header, byte[] SealedRing) ParseContent(byte[] content, string displayPath)
    {
        try
        {
            return KeystoreFileFormat.Parse(content);
        }
        catch (FormatException e)
        {
            throw Unavailable(displayPath, $"not a valid keystore file: {e.Message}", e);
        }
    }

    private static byte[] DeriveFileKey(KeystoreHeader header, ReadOnlySpan<byte> passphrase)
    {
        var key = GC.AllocateArray<byte>(32, pinned: true);
        header.Kdf.DeriveKey(passphrase, header.Salt, key);
        return key;
    }

    private static void RefuseExisting(string path)
    {
        if (File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            throw Unavailable(path, "something already exists at this path; refusing to overwrite it");
        }
    }

    /// <summary>Where writes go: the final target when <paramref name="path"/> is a symbolic link, so the link survives.</summary>
    private static string WriteTarget(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is null ? path : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
    }

    private static void RequireUnix()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the software keystore relies on Unix file modes");
        }
    }

    private static void RequirePassphrase(ReadOnlySpan<byte> passphrase)
    {
        if (passphrase.IsEmpty)
        {
            throw new KmsException(KmsErrorKind.ProviderUnavailable, "the keystore passphrase is empty");
        }
    }

    private static KmsException Unavailable(string path, string problem, Exception? inner = null) =>
        new(KmsErrorKind.ProviderUnavailable, string.Create(CultureInfo.InvariantCulture, $"keystore \"{path}\": {problem}"), inner);
}
