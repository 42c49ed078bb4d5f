using System.Globalization;
using System.Security.Cryptography;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>
/// An immutable key ring: exactly one primary, unique ids, in creation order. Every rule of the
/// rotation verbs lives here; a verb that changes nothing returns the same instance. Keys are never
/// removed, so the ids in the ring are every id the keystore has ever issued.
/// <para>
/// <see cref="Promotions"/> records which key was primary at each generation, so KMS v2 Decrypt can
/// accept exactly the key_ids (<c>id@generation</c>) this keystore issued. Rings written before the
/// record existed know only their current generation; earlier generations are holes, see <see cref="Issued"/>.
/// </para>
/// </summary>
internal sealed class KeyRing
{
    public const int MaxKeys = 4096;

    /// <summary>The newest promotions kept; older ones turn into holes (keeps the file under its size limit).</summary>
    public const int MaxPromotions = 16384;

    private const int MaxIdAttempts = 64;

    private readonly KeyRingEntry[] _entries;
    private readonly SortedDictionary<long, string> _promotions;

    public KeyRing(IEnumerable<KeyRingEntry> keys, long generation, IEnumerable<KeyValuePair<long, string>>? promotions = null)
    {
        if (generation < 1)
        {
            throw new ArgumentException($"the key ring's promotion generation must be at least 1, found {generation}");
        }

        Generation = generation;
        _entries = keys.ToArray();
        if (_entries.Length > MaxKeys)
        {
            throw new ArgumentException($"a key ring holds at most {MaxKeys} root keys");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in _entries)
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

        var primaries = _entries.Count(e => e.State == KeyState.Primary);
        if (primaries != 1)
        {
            throw new ArgumentException($"a key ring needs exactly one primary root key, found {primaries}");
        }

        Primary = _entries.Single(e => e.State == KeyState.Primary);
        _promotions = CheckedPromotions(promotions ?? [], generation, ids, Primary.Id);
    }

    public IReadOnlyList<KeyRingEntry> Entries => _entries;

    /// <summary>Generation → the key that became primary with it, ascending; always holds <see cref="Generation"/>.</summary>
    public IReadOnlyDictionary<long, string> Promotions => _promotions;

    /// <summary>
    /// Whether <c><paramref name="id"/>@<paramref name="generation"/></c> is a key_id this ring's
    /// keystore issued. A generation with no record (a ring written before records existed, or one
    /// older than <see cref="MaxPromotions"/>) is accepted for any key in the ring: refusing it could
    /// make stored data unreadable.
    /// </summary>
    public bool Issued(string id, long generation)
    {
        if (generation < 1 || generation > Generation || Find(id) is null)
        {
            return false;
        }

        return !_promotions.TryGetValue(generation, out var primary) || string.Equals(primary, id, StringComparison.Ordinal);
    }

    public KeyRingEntry Primary { get; }

    /// <summary>Starts at 1 and grows with every promotion; never goes back (see <see cref="PrimaryRootKey"/>).</summary>
    public long Generation { get; }

    public IReadOnlyList<KeystoreKeyInfo> Describe() => _entries.Select(e => e.Info).ToArray();

    public KeyRingEntry? Find(string id) => Array.Find(_entries, e => string.Equals(e.Id, id, StringComparison.Ordinal));

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
        if (_entries.Length >= MaxKeys)
        {
            throw new KmsException(KmsErrorKind.KeyUnavailable, $"the key ring already holds {MaxKeys} root keys");
        }

        added = NewEntry(KeyState.DecryptOnly, now, expiresAt, id => Find(id) is not null);
        return new KeyRing([.. _entries, added], Generation, _promotions);
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
            _entries.Select(e =>
                ReferenceEquals(e, target) ? e.WithState(KeyState.Primary)
                : e.State == KeyState.Primary ? e.WithState(KeyState.DecryptOnly)
                : e),
            checked(Generation + 1),
            _promotions.Append(new(checked(Generation + 1), target.Id)));
    }

    /// <summary>
    /// The same keys at the generation after <paramref name="runningGeneration"/>: the explicit step
    /// back to an older keystore copy (<c>keystore rollback</c>). The generations in between stay
    /// holes, since another copy may have issued them.
    /// </summary>
    public KeyRing RaisedAbove(long runningGeneration)
    {
        if (Generation > runningGeneration)
        {
            throw new KmsException(KmsErrorKind.KeyUnavailable,
                $"the keystore is at promotion generation {Generation}, already above {runningGeneration}; running plugins take it without a rollback");
        }

        return new KeyRing(_entries, checked(runningGeneration + 1), _promotions);
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
        new(_entries.Select(e => ReferenceEquals(e, target) ? e.WithState(state) : e), Generation, _promotions);

    private static SortedDictionary<long, string> CheckedPromotions(IEnumerable<KeyValuePair<long, string>> records, long generation, HashSet<string> ids, string primaryId)
    {
        var checkedRecords = new SortedDictionary<long, string>();
        foreach (var (promoted, id) in records)
        {
            if (promoted < 1 || promoted > generation || !ids.Contains(id) || !checkedRecords.TryAdd(promoted, id))
            {
                throw new ArgumentException($"promotion record {promoted} → \"{id}\" does not fit a ring at generation {generation}");
            }
        }

        if (!checkedRecords.TryAdd(generation, primaryId) && checkedRecords[generation] != primaryId)
        {
            throw new ArgumentException($"the promotion record for generation {generation} names \"{checkedRecords[generation]}\", not the primary \"{primaryId}\"");
        }

        while (checkedRecords.Count > MaxPromotions)
        {
            checkedRecords.Remove(checkedRecords.Keys.First());
        }

        return checkedRecords;
    }

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
        var material = GC.AllocateArray<byte>(KeystoreRootKey.KeySize, pinned: true);
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
