using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>
/// The "software" root-key provider over a loaded <see cref="KeystoreFile"/>. It copies the material of
/// every usable key into its own <see cref="KeystoreRootKey"/> instances, so the keystore can
/// be disposed right after construction. <see cref="Reload"/> swaps in a newly loaded ring atomically.
/// </summary>
internal sealed class KeystoreRootKeyProvider : IRootKeyProvider, IRootKeyCatalog, IDisposable
{
    public const string ProviderName = "software";

    private readonly TimeProvider _timeProvider;
    private readonly object _reloadGate = new();

    // Keys that left the ring (disabled, or absent from a reloaded file). In-flight calls may still
    // hold them, so they are disposed with the provider rather than at the swap.
    private readonly List<KeystoreRootKey> _dropped = [];
    private volatile Snapshot _current;
    private bool _disposed;

    public KeystoreRootKeyProvider(KeystoreFile keystore, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(keystore);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _current = keystore.WithRing(ring => Snapshot.Build(ring, previous: null));
    }

    /// <summary>A provider over a random in-memory primary key, for <c>serve --dev</c>. Nothing touches disk.</summary>
    public static KeystoreRootKeyProvider CreateDevelopment(TimeProvider? timeProvider = null)
    {
        using var keystore = KeystoreFile.CreateInMemory(new KeystoreOptions { TimeProvider = timeProvider ?? TimeProvider.System });
        return new KeystoreRootKeyProvider(keystore, timeProvider);
    }

    public string Name => ProviderName;

    /// <summary>Throws <see cref="KmsErrorKind.KeyUnavailable"/> once the primary has expired.</summary>
    public PrimaryRootKey Primary
    {
        get
        {
            var snapshot = _current;
            var info = snapshot.PrimaryInfo;
            if (info.IsExpiredAt(_timeProvider.GetUtcNow()))
            {
                throw new KmsException(KmsErrorKind.KeyUnavailable,
                    $"root key \"{info.Id}\" expired at {KeyRing.FormatTime(info.ExpiresAt!.Value)}; promote a new root key");
            }

            return snapshot.PrimaryKey;
        }
    }

    public PrimaryRootKey? KnownPrimary => _current.PrimaryKey;

    /// <summary>One more with every reload: the ring is swapped whole.</summary>
    public long KeyRingVersion => _current.Version;

    /// <summary>The ring as last loaded, without material (for status output and logs).</summary>
    public IReadOnlyList<KeystoreKeyInfo> Keys => _current.Infos;

    public IReadOnlyList<RootKeyDescription> DescribeKeys() => _current.Descriptions;

    /// <summary>Primary or decrypt-only keys, expired or not: data wrapped before the expiry stays readable.</summary>
    public IRootKey GetForDecrypt(string keyId)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        var snapshot = _current;
        if (!snapshot.ById.TryGetValue(keyId, out var slot))
        {
            throw KmsException.UnknownKey(keyId);
        }

        return slot.Key ?? throw new KmsException(KmsErrorKind.KeyUnavailable, $"root key \"{keyId}\" is disabled");
    }

    /// <summary>From the ring's promotion record (see <see cref="KeyRing.Issued"/>).</summary>
    public bool NeverIssued(string rootKeyId, long generation)
    {
        ArgumentNullException.ThrowIfNull(rootKeyId);
        var snapshot = _current;
        return snapshot.ById.ContainsKey(rootKeyId) && !snapshot.Issued(rootKeyId, generation);
    }

    /// <summary>
    /// Swaps in the ring of a newly loaded <paramref name="keystore"/>. Keys whose id persists keep
    /// their instance (so <see cref="Primary"/> stays reference-equal unless the primary moved). A key
    /// id whose material differs is refused: ids are never reused, so that is a different keystore.
    /// A rollback is refused too (see <see cref="RollbackProblem"/>).
    /// </summary>
    public void Reload(KeystoreFile keystore)
    {
        ArgumentNullException.ThrowIfNull(keystore);
        lock (_reloadGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var previous = _current;
            if (keystore.WithRing(ring => RollbackProblem(ring, previous)) is { } rollback)
            {
                throw new KmsException(KmsErrorKind.ProviderUnavailable, $"keystore \"{keystore.Path}\": {rollback}");
            }

            var next = keystore.WithRing(ring => Snapshot.Build(ring, previous));
            _current = next;
            var kept = next.ById.Values.Select(s => s.Key).OfType<KeystoreRootKey>().ToHashSet();
            _dropped.AddRange(previous.ById.Values.Select(s => s.Key).OfType<KeystoreRootKey>().Where(k => !kept.Contains(k)));
        }
    }

    /// <summary>
    /// A stale copy (an older backup, a node that missed a promotion) has a lower generation, or the
    /// same one with another primary. Taking it would wrap new data under an older key and repeat
    /// key_ids. Going back on purpose is <c>kms-plugin keystore rollback &lt;running generation&gt;</c>, which raises the file's generation.
    /// </summary>
    private static string? RollbackProblem(KeyRing ring, Snapshot running)
    {
        var hint = $"if going back is intended, run `kms-plugin keystore rollback {running.Generation}` on the file";
        if (ring.Generation < running.Generation)
        {
            return $"refusing a rollback: the file is at promotion generation {ring.Generation} (primary \"{ring.Primary.Id}\"), " +
                $"older than the running generation {running.Generation} (primary \"{running.PrimaryInfo.Id}\"); the running key ring is kept; {hint}";
        }

        if (ring.Generation == running.Generation && !string.Equals(ring.Primary.Id, running.PrimaryInfo.Id, StringComparison.Ordinal))
        {
            return $"refusing a rollback: the file is at promotion generation {ring.Generation} with primary \"{ring.Primary.Id}\", " +
                $"but the running generation {running.Generation} has primary \"{running.PrimaryInfo.Id}\"; the running key ring is kept; {hint}";
        }

        return null;
    }

    public void Dispose()
    {
        lock (_reloadGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var key in _current.ById.Values.Select(s => s.Key).OfType<KeystoreRootKey>().Concat(_dropped))
            {
                key.Dispose();
            }
        }
    }

    // Disabled keys have no key instance; their check value is computed from the ring's material.
    private sealed record Slot(KeystoreKeyInfo Info, KeystoreRootKey? Key, string CheckValue);

    private sealed class Snapshot
    {
        // A copy of the ring's record: the snapshot must not keep the ring, whose material the keystore zeroes.
        private readonly Dictionary<long, string> _promotions;

        private Snapshot(KeyRing ring, Dictionary<string, Slot> byId, IReadOnlyList<KeystoreKeyInfo> infos, Snapshot? previous)
        {
            _promotions = new Dictionary<long, string>(ring.Promotions);
            var primaryInfo = ring.Primary.Info;
            var generation = ring.Generation;
            ById = byId;
            Version = (previous?.Version ?? 0) + 1;
            PrimaryInfo = primaryInfo;
            Generation = generation;
            var primary = new PrimaryRootKey(byId[primaryInfo.Id].Key!, generation) { ExpiresAt = primaryInfo.ExpiresAt };
            PrimaryKey = primary == previous?.PrimaryKey ? previous.PrimaryKey : primary;
            Infos = infos;
            Descriptions = infos.Select(info => new RootKeyDescription(info.Id, info.State, byId[info.Id].CheckValue)
            {
                Generation = info.State == KeyState.Primary ? generation : null,
                ExpiresAt = info.ExpiresAt,
            }).ToArray();
        }

        public Dictionary<string, Slot> ById { get; }

        public long Version { get; }

        public KeystoreKeyInfo PrimaryInfo { get; }

        public long Generation { get; }

        public PrimaryRootKey PrimaryKey { get; }

        public IReadOnlyList<KeystoreKeyInfo> Infos { get; }

        public IReadOnlyList<RootKeyDescription> Descriptions { get; }

        /// <summary>As <see cref="KeyRing.Issued"/>.</summary>
        public bool Issued(string id, long generation) =>
            generation >= 1 && generation <= Generation && ById.ContainsKey(id) &&
            (!_promotions.TryGetValue(generation, out var primary) || string.Equals(primary, id, StringComparison.Ordinal));

        public static Snapshot Build(KeyRing ring, Snapshot? previous)
        {
            var byId = new Dictionary<string, Slot>(StringComparer.Ordinal);
            var created = new List<KeystoreRootKey>();
            try
            {
                foreach (var entry in ring.Entries)
                {
                    KeystoreRootKey? key = null;
                    if (entry.State != KeyState.Disabled)
                    {
                        key = previous?.ById.GetValueOrDefault(entry.Id)?.Key;
                        if (key is null)
                        {
                            key = new KeystoreRootKey(entry.Id, entry.Material);
                            created.Add(key);
                        }
                        else if (!key.HasMaterial(entry.Material))
                        {
                            throw new KmsException(KmsErrorKind.ProviderUnavailable,
                                $"root key \"{entry.Id}\" has different material in the reloaded keystore; refusing to reload");
                        }
                    }

                    byId.Add(entry.Id, new Slot(entry.Info, key, key?.CheckValue ?? KeyCheckValue.Compute(entry.Material)));
                }

                return new Snapshot(ring, byId, ring.Describe(), previous);
            }
            catch
            {
                foreach (var key in created)
                {
                    key.Dispose();
                }

                throw;
            }
        }
    }
}
