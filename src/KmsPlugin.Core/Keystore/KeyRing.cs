using System.Globalization;
using System.Security.Cryptography;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.Keys;

namespace KmsPlugin.Core.Keystore;

/// <summary>
/// An immutable key ring: exactly one primary, unique ids, in creation order. Every rule of the
/// rotation verbs lives here; a verb that changes nothing returns the same instance. Keys are never
/// removed, so the ids in the ring are every id the keystore has ever issued.
/// </summary>
internal sealed class KeyRing
{
    public const int MaxKeys = 4096;
    private const int MaxIdAttempts = 64;

    private readonly KeyRingEntry[] entries;

    public KeyRing(IEnumerable<KeyRingEntry> keys, long generation)
    {
        if (generation < 1)
        {
            throw new ArgumentException($"the key ring's promotion generation must be at least 1, found {generation}");
        }

        Generation = generation;
        entries = keys.ToArray();
        if (entries.Length > MaxKeys)
        {
            throw new ArgumentException($"a key ring holds at most {MaxKeys} root keys");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!IsValidId(entry.Id))
            {
                throw new ArgumentException($"root key id \"{entry.Id}\" is not 1 to 255 printable ASCII characters");
            }

            if (!ids.Add(entry.Id))
            {
                throw new ArgumentException($"root key id \"{entry.Id}\" appears twice");
            }
        }

        var primaries = entries.Count(e => e.State == KeyState.Primary);
        if (primaries != 1)
        {
            throw new ArgumentException($"a key ring needs exactly one primary root key, found {primaries}");
        }

        Primary = entries.Single(e => e.State == KeyState.Primary);
    }

    public IReadOnlyList<KeyRingEntry> Entries => entries;

    public KeyRingEntry Primary { get; }

    /// <summary>Starts at 1 and grows with every promotion; never goes back (see <see cref="PrimaryKeyEncryptionKey"/>).</summary>
    public long Generation { get; }

    public IReadOnlyList<KeystoreKeyInfo> Describe() => entries.Select(e => e.Info).ToArray();

    public KeyRingEntry? Find(string id) => Array.Find(entries, e => string.Equals(e.Id, id, StringComparison.Ordinal));

    public static bool IsValidId(string id) =>
        id.Length is > 0 and <= 255 && id.All(c => c is > ' ' and <= '~');

    /// <summary>A ring holding one new primary key.</summary>
    public static KeyRing CreateNew(DateTimeOffset now, DateTimeOffset? expiresAt)
    {
        var entry = NewEntry(KeyState.Primary, now, expiresAt, static _ => false);
        return new KeyRing([entry], generation: 1);
    }

    /// <summary>Adds a decrypt-only key with a fresh id; it wraps nothing until promoted.</summary>
    public KeyRing AddKey(DateTimeOffset now, DateTimeOffset? expiresAt, out KeyRingEntry added)
    {
        if (entries.Length >= MaxKeys)
        {
            throw new KmsException(KmsErrorKind.KeyUnavailable, $"the key ring already holds {MaxKeys} root keys");
        }

        added = NewEntry(KeyState.DecryptOnly, now, expiresAt, id => Find(id) is not null);
        return new KeyRing([.. entries, added], Generation);
    }

    public KeyRing Promote(string id, DateTimeOffset now)
    {
        var target = FindOrThrow(id);
        switch (target.State)
        {
            case KeyState.Primary:
                return this;
            case KeyState.Disabled:
                throw new KmsException(KmsErrorKind.KeyUnavailable, $"root key \"{id}\" is disabled; enable it first, then promote it");
        }

        if (target.Info.IsExpiredAt(now))
        {
            throw new KmsException(KmsErrorKind.KeyUnavailable, $"root key \"{id}\" expired at {FormatTime(target.Info.ExpiresAt!.Value)} and cannot become primary");
        }

        return new KeyRing(
            entries.Select(e =>
                ReferenceEquals(e, target) ? e.WithState(KeyState.Primary)
                : e.State == KeyState.Primary ? e.WithState(KeyState.DecryptOnly)
                : e),
            checked(Generation + 1));
    }

    /// <summary>Decrypt-only → disabled. The material stays in the ring; <see cref="Enable"/> undoes this.</summary>
    public KeyRing Retire(string id)
    {
        var target = FindOrThrow(id);
        return target.State switch
        {
            KeyState.Primary => throw new KmsException(KmsErrorKind.KeyUnavailable, $"root key \"{id}\" is the primary; promote another root key first"),
            KeyState.Disabled => this,
            _ => Replace(target, KeyState.Disabled),
        };
    }

    /// <summary>Disabled → decrypt-only.</summary>
    public KeyRing Enable(string id)
    {
        var target = FindOrThrow(id);
        return target.State == KeyState.Disabled ? Replace(target, KeyState.DecryptOnly) : this;
    }

    internal static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private KeyRing Replace(KeyRingEntry target, KeyState state) =>
        new(entries.Select(e => ReferenceEquals(e, target) ? e.WithState(state) : e), Generation);

    private KeyRingEntry FindOrThrow(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return Find(id) ?? throw KmsException.UnknownKey(id);
    }

    private static KeyRingEntry NewEntry(KeyState state, DateTimeOffset now, DateTimeOffset? expiresAt, Func<string, bool> taken)
    {
        // The file stores milliseconds; truncating here keeps a saved and reloaded ring identical.
        var created = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
        DateTimeOffset? expiry = expiresAt is { } e ? DateTimeOffset.FromUnixTimeMilliseconds(e.ToUnixTimeMilliseconds()) : null;
        if (expiry is { } x && x <= created)
        {
            throw new ArgumentOutOfRangeException(nameof(expiresAt), $"expiry {FormatTime(x)} is not after the creation time {FormatTime(created)}");
        }

        var id = NewId(created, taken);
        var material = GC.AllocateArray<byte>(SoftwareKeyEncryptionKey.KeySize, pinned: true);
        RandomNumberGenerator.Fill(material);
        return new KeyRingEntry(new KeystoreKeyInfo(id, state, created, expiry), material);
    }

    private static string NewId(DateTimeOffset created, Func<string, bool> taken)
    {
        var day = created.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        for (var attempt = 0; attempt < MaxIdAttempts; attempt++)
        {
            var id = $"kek-{day}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
            if (!taken(id))
            {
                return id;
            }
        }

        throw new InvalidOperationException("could not find an unused root key id");
    }
}
