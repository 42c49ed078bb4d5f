using System.Diagnostics;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using Net.Pkcs11Interop.Common;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// The "pkcs11" root-key provider: AES keys inside a PKCS#11 token (a FIPS HSM in production,
/// SoftHSM in tests), selected by <c>CKA_LABEL</c>. Root key ids are <c>p11-&lt;label&gt;</c>.
/// <para>
/// Wrapping is <c>CKM_AES_GCM</c> inside the token (see <see cref="Pkcs11RootKey"/>);
/// the token must list that mechanism and the primary must allow <c>CKA_ENCRYPT</c> and
/// <c>CKA_DECRYPT</c> (decrypt-only keys <c>CKA_DECRYPT</c>), checked whenever the provider connects.
/// </para>
/// <para>
/// Generation (the <c>@n</c> of the KMS v2 key id) comes from the token's promotion record
/// (<see cref="Pkcs11PromotionRecord"/>), which this provider only reads: no record → 1; the record's
/// last entry equals the configured primary → the number of entries; anything else is refused
/// ("the token's promotion record says the primary is X; run `kms-plugin pkcs11 promote --label Y`"),
/// because serving a primary the record does not name could repeat an old key id.
/// </para>
/// <para>
/// <see cref="Open"/> throws for configuration problems that waiting does not fix (module missing,
/// bad labels, wrong PIN, key or mechanism missing, record disagreeing). When the token merely
/// cannot be reached it returns a provider whose members throw
/// <see cref="KmsErrorKind.ProviderUnavailable"/> with the reason and which reconnects by itself
/// (at most once a second) as soon as the token is back.
/// </para>
/// </summary>
internal sealed class Pkcs11RootKeyProvider : IRootKeyProvider, IRootKeyCatalog, IDisposable
{
    public const string ProviderName = "pkcs11";

    private static readonly TimeSpan ReconnectInterval = TimeSpan.FromSeconds(1);

    private readonly Pkcs11ProviderOptions _options;
    private readonly Pkcs11SessionPool _pool;
    private readonly object _connectGate = new();
    private readonly Pkcs11KeyVerifier _verifier = new();
    private volatile Pkcs11KeySet _keys;
    private volatile PrimaryRootKey? _primary;
    private volatile IReadOnlyList<RootKeyDescription>? _descriptions;

    // The token's promotion record as last read (empty: none); null until the token was reached.
    private volatile IReadOnlyList<string>? _promotions;
    private KmsException? _failure;
    private long _failedAt;

    private Pkcs11RootKeyProvider(Pkcs11ProviderOptions options, Pkcs11SessionPool pool)
    {
        _options = options;
        _pool = pool;
        _keys = Pkcs11KeySet.Build(options.PrimaryKeyLabel, options.DecryptKeyLabels, pool, previous: null);
        pool.ConnectionCheck = session => _verifier.VerifyAll(_keys.ById.Values, session);
    }

    /// <summary>Called with the reason whenever a key is refused because the token's key material changed.</summary>
    public Action<string>? KeyRefused
    {
        get => _verifier.KeyRefused;
        set => _verifier.KeyRefused = value;
    }

    public string Name => ProviderName;

    /// <summary>The last connection failure, or null while connected (for logs and status).</summary>
    public KmsException? Failure => Volatile.Read(ref _failure);

    public PrimaryRootKey Primary => _primary ?? Reconnect();

    public PrimaryRootKey? KnownPrimary => _primary;

    // Until the token is first reached, GetForDecrypt must try to reconnect on every call.
    public long KeyRingVersion => _primary is null ? 0 : _keys.Version;

    /// <summary>The keys as of the last connection or reload, with check values computed inside the token then.</summary>
    public IReadOnlyList<RootKeyDescription> DescribeKeys()
    {
        if (_primary is null)
        {
            Reconnect();
        }

        return _descriptions!;
    }

    public IRootKey GetForDecrypt(string keyId)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        if (!_keys.ById.TryGetValue(keyId, out var key))
        {
            throw KmsException.UnknownKey(keyId);
        }

        if (_primary is null)
        {
            Reconnect();
        }

        return key;
    }

    // Generation n belongs to the record's n-th entry. @1 is accepted for every key: keys served before
    // the token had a record were all @1. Before the token was first reached, nothing is refused here.
    public bool NeverIssued(string rootKeyId, long generation)
    {
        ArgumentNullException.ThrowIfNull(rootKeyId);
        if (!_keys.ById.ContainsKey(rootKeyId) || generation == 1 || _promotions is not { } record)
        {
            return false;
        }

        return generation < 1 || generation > record.Count || Pkcs11KeyLabel.ToKeyId(record[(int)(generation - 1)]) != rootKeyId;
    }

    /// <summary>
    /// Loads the module and connects. Throws <see cref="KmsException"/> for configuration problems;
    /// returns a disconnected provider (see <see cref="Failure"/>) when the token is unreachable.
    /// </summary>
    public static Pkcs11RootKeyProvider Open(Pkcs11ProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw Pkcs11Errors.Configuration(new KmsException(KmsErrorKind.ProviderUnavailable, string.Join("; ", problems)));
        }

        var module = Pkcs11Module.Load(options.ModulePath);
        var provider = new Pkcs11RootKeyProvider(options, new Pkcs11SessionPool(module, options));
        try
        {
            provider.Reconnect();
        }
        catch (KmsException ex) when (!Pkcs11Errors.IsConfigurationProblem(ex))
        {
            // Token away for now: serve degraded, reconnect on use.
        }
        catch
        {
            provider.Dispose();
            throw;
        }

        return provider;
    }

    public void Dispose() => _pool.Dispose();

    /// <summary>
    /// Switches to another primary and decrypt-only set (a reloaded configuration) and reads the
    /// promotion record again. The new set is checked on the token first, exactly as at start-up;
    /// when anything fails this throws and the running set stays. Returns a line for the log.
    /// </summary>
    public string Reload(string? primaryLabel, IReadOnlyList<string> decryptLabels)
    {
        ArgumentNullException.ThrowIfNull(decryptLabels);
        var problems = new List<string>();
        if (primaryLabel is null)
        {
            problems.Add("no PKCS#11 primary key label");
        }

        problems.AddRange(decryptLabels.Prepend(primaryLabel).Where(l => l is not null && !Pkcs11KeyLabel.IsValid(l)).Select(Pkcs11KeyLabel.Describe));
        if (decryptLabels.Contains(primaryLabel, StringComparer.Ordinal))
        {
            problems.Add($"key label \"{primaryLabel}\" is both the primary and a decrypt-only key");
        }

        if (problems.Count > 0)
        {
            throw new KmsException(KmsErrorKind.ProviderUnavailable, string.Join("; ", problems));
        }

        lock (_connectGate)
        {
            var set = Pkcs11KeySet.Build(primaryLabel!, decryptLabels, _pool, _keys);
            var (generation, described) = _pool.Run("reload", session => Check(session, set));
            var next = new PrimaryRootKey(set.PrimaryKey, generation);
            _keys = set;
            _descriptions = described;
            if (next != _primary)
            {
                _primary = next;
            }

            Volatile.Write(ref _failure, null);
            return $"primary key_id {next.KeyId}, {set.ById.Count} root keys on token \"{_options.TokenLabel}\"";
        }
    }

    // One caller reconnects; the others fail fast with the last reason instead of blocking pool
    // threads behind it for up to a call timeout.
    private PrimaryRootKey Reconnect()
    {
        if (!Monitor.TryEnter(_connectGate))
        {
            if (_primary is { } ready)
            {
                return ready;
            }

            throw Volatile.Read(ref _failure) is { } last
                ? Pkcs11Errors.Copy(last)
                : new KmsException(KmsErrorKind.ProviderUnavailable, $"PKCS#11 token \"{_options.TokenLabel}\": still connecting");
        }

        try
        {
            if (_primary is { } connected)
            {
                return connected;
            }

            if (_failure is not null && Stopwatch.GetElapsedTime(_failedAt) < ReconnectInterval)
            {
                throw Pkcs11Errors.Copy(_failure);
            }

            try
            {
                var set = _keys;
                var (generation, described) = _pool.Run("connect", session => Check(session, set));
                var result = new PrimaryRootKey(set.PrimaryKey, generation);
                Volatile.Write(ref _failure, null);
                _descriptions = described;
                _primary = result;
                return result;
            }
            catch (KmsException ex)
            {
                Volatile.Write(ref _failure, ex);
                _failedAt = Stopwatch.GetTimestamp();
                throw Pkcs11Errors.Copy(ex);
            }
        }
        finally
        {
            Monitor.Exit(_connectGate);
        }
    }

    // Mechanism, keys with their attributes, promotion record. Returns the primary's generation and
    // the keys with their check values.
    private (long Generation, IReadOnlyList<RootKeyDescription> Keys) Check(Pkcs11PooledSession session, Pkcs11KeySet set)
    {
        if (!session.Slot.GetMechanismList().Contains(CKM.CKM_AES_GCM))
        {
            throw Pkcs11Errors.MechanismMissing(_options.TokenLabel, CKM.CKM_AES_GCM);
        }

        foreach (var key in set.ById.Values)
        {
            var handle = session.FindAesKey(key.Label);
            var values = session.Session.GetAttributeValue(handle, [CKA.CKA_ENCRYPT, CKA.CKA_DECRYPT]);
            if (!values[1].GetValueAsBool())
            {
                throw MissingAttribute(key, CKA.CKA_DECRYPT);
            }

            if (ReferenceEquals(key, set.PrimaryKey) && !values[0].GetValueAsBool())
            {
                throw MissingAttribute(key, CKA.CKA_ENCRYPT);
            }
        }

        var generation = Generation(session, set.PrimaryKey.Label);
        var described = set.ById.Values.Select(key => new RootKeyDescription(
                key.Id,
                ReferenceEquals(key, set.PrimaryKey) ? KeyState.Primary : KeyState.DecryptOnly,
                _verifier.Verified(key, key.ComputeCheckValue(session)))
        {
            Generation = ReferenceEquals(key, set.PrimaryKey) ? generation : null,
        })
            .ToArray();
        return (generation, described);
    }

    private long Generation(Pkcs11PooledSession session, string primaryLabel)
    {
        var record = Pkcs11PromotionRecord.Read(session.Session, _options.TokenLabel);
        if (record is null || record.Count == 0)
        {
            _promotions = [];
            return 1;
        }

        if (record[^1] != primaryLabel)
        {
            throw Pkcs11Errors.Configuration(new KmsException(KmsErrorKind.ProviderUnavailable,
                $"the token's promotion record says the primary is \"{record[^1]}\"; run `kms-plugin pkcs11 promote --label {primaryLabel}`" +
                $" to make \"{primaryLabel}\" primary, or configure \"{record[^1]}\" as the primary key"));
        }

        _promotions = record;
        return record.Count;
    }

    private KmsException MissingAttribute(Pkcs11RootKey key, CKA attribute) =>
        Pkcs11Errors.Configuration(new KmsException(KmsErrorKind.ProviderUnavailable,
            $"root key \"{key.Id}\" on token \"{_options.TokenLabel}\" does not have {attribute} set; the plugin wraps data keys with C_Encrypt/C_Decrypt (CKM_AES_GCM)"));
}
