using System.Security.Cryptography;
using KmsPlugin.EtcdValues;

namespace KmsPlugin.Server.Etcd;

/// <summary>
/// Opens each value's data key the way kube-apiserver would and, when asked, the value itself under
/// its etcd key. Where the data key comes from (a running plugin, or root keys loaded from a backup)
/// is the subclass's part. DEKs are cached by their encrypted form, as kube-apiserver does, and
/// zeroed when the checker is disposed; they never leave this type.
/// </summary>
internal abstract class DataKeyChecker : IDisposable
{
    private readonly Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _rootKeyKnown = new(StringComparer.Ordinal);

    /// <summary>The root key id new data is written under, or null when the source has no such notion (a backup).</summary>
    public abstract Task<string?> PrimaryRootKeyAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Null when the value's DEK opens (and, with <paramref name="openPayload"/>, the payload opens
    /// under its etcd key); otherwise why not. <paramref name="UnknownRootKey"/> says the source does
    /// not have the value's root key.
    /// </summary>
    public async Task<(string? Problem, bool UnknownRootKey)> CheckAsync(string etcdKey, ParsedKmsValue value, bool openPayload, CancellationToken cancellationToken)
    {
        var rootKeyId = value.Ids.RootKeyId;
        if (_rootKeyKnown.TryGetValue(rootKeyId, out var known))
        {
            if (!known)
            {
                return ($"root key \"{rootKeyId}\" is not {MissingFrom}", true);
            }

            if (!openPayload)
            {
                return (null, false);
            }
        }

        var cacheKey = CacheKey(value);
        if (!_keys.TryGetValue(cacheKey, out var dek))
        {
            var opened = await OpenDataKeyAsync(value, cancellationToken);
            if (opened.Key is null)
            {
                if (opened.UnknownRootKey)
                {
                    _rootKeyKnown[rootKeyId] = false;
                }

                return (opened.Problem, opened.UnknownRootKey);
            }

            _keys[cacheKey] = dek = opened.Key;
        }

        _rootKeyKnown[rootKeyId] = true;
        return openPayload ? (OpenPayload(etcdKey, value, dek), false) : (null, false);
    }

    public void Dispose()
    {
        foreach (var key in _keys.Values)
        {
            CryptographicOperations.ZeroMemory(key);
        }

        _keys.Clear();
        DisposeSource();
    }

    /// <summary>"in the plugin's key ring", "in this backup": ends the sentence "root key X is not …".</summary>
    protected abstract string MissingFrom { get; }

    /// <summary>The DEK (v1) or DEK source (v2) of <paramref name="value"/>, or why it cannot be had.</summary>
    protected abstract Task<OpenedDataKey> OpenDataKeyAsync(ParsedKmsValue value, CancellationToken cancellationToken);

    protected virtual void DisposeSource()
    {
    }

    private static string CacheKey(ParsedKmsValue value) => value.V1 is { } v1
        ? "v1:" + Convert.ToBase64String(v1.EncryptedDek.Span)
        : "v2:" + value.V2!.Object.KeyId + ":" + Convert.ToBase64String(value.V2.Object.EncryptedDekSource.Span);

    private static string? OpenPayload(string etcdKey, ParsedKmsValue value, byte[] dek)
    {
        try
        {
            var etcdKeyBytes = System.Text.Encoding.UTF8.GetBytes(etcdKey);
            var plaintext = value.V1 is { } v1
                ? KmsV1Envelope.Open(v1, dek, etcdKeyBytes).Plaintext
                : KmsV2Envelope.Open(value.V2!.Object, dek, etcdKeyBytes);
            CryptographicOperations.ZeroMemory(plaintext);
            return null;
        }
        catch (EtcdValueException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>Either <see cref="Key"/>, or <see cref="Problem"/> with whether the root key is missing.</summary>
    protected readonly record struct OpenedDataKey(byte[]? Key, string? Problem, bool UnknownRootKey)
    {
        public static OpenedDataKey Refused(string problem, bool unknownRootKey) => new(null, problem, unknownRootKey);
    }
}
