using System.Runtime.CompilerServices;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;

namespace KmsPlugin.Server.Etcd;

/// <summary>
/// Reads every key under a prefix, a page at a time, all at the revision of the first page so the
/// scan sees one consistent snapshot however long it takes. Read-only: never a write.
/// </summary>
internal sealed class EtcdKeyScanner
{
    private readonly EtcdClient _client;
    private readonly int _pageSize;

    public EtcdKeyScanner(EtcdClient client, int pageSize = 500)
    {
        _client = client;
        _pageSize = pageSize;
    }

    /// <summary>The revision the last scan read at.</summary>
    public long Revision { get; private set; }

    /// <summary>Keys under <paramref name="prefix"/> only (no values): what a progress bar needs as its total.</summary>
    public async Task<long> CountAsync(string prefix, CancellationToken cancellationToken)
    {
        var response = await _client.GetAsync(new RangeRequest
        {
            Key = ByteString.CopyFromUtf8(prefix),
            RangeEnd = PrefixEnd(prefix),
            CountOnly = true,
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Count;
    }

    public async IAsyncEnumerable<(string Key, ReadOnlyMemory<byte> Value)> ScanAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var start = ByteString.CopyFromUtf8(prefix);
        var end = PrefixEnd(prefix);
        long revision = 0;
        while (true)
        {
            var response = await _client.GetAsync(new RangeRequest
            {
                Key = start,
                RangeEnd = end,
                Limit = _pageSize,
                Revision = revision,
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            // The header names the store's current revision, so take it from the first page only.
            if (revision == 0)
            {
                Revision = revision = response.Header.Revision;
            }

            foreach (var kv in response.Kvs)
            {
                yield return (kv.Key.ToStringUtf8(), kv.Value.Memory);
            }

            if (!response.More || response.Kvs.Count == 0)
            {
                yield break;
            }

            // The next page starts just after the last key of this one.
            start = ByteString.CopyFrom([.. response.Kvs[^1].Key.Span, 0]);
        }
    }

    /// <summary>The range end etcd uses for "every key with this prefix": the prefix with its last byte + 1.</summary>
    public static ByteString PrefixEnd(string prefix)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(prefix);
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xff)
            {
                bytes[i]++;
                return ByteString.CopyFrom(bytes, 0, i + 1);
            }
        }

        return ByteString.CopyFrom(0);
    }
}
