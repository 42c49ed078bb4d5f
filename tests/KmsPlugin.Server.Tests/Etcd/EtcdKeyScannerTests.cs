using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using KmsPlugin.Server.Etcd;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Etcd;

public sealed class EtcdKeyScannerTests
{
    [Fact]
    public async Task Scans_every_key_under_the_prefix_across_pages_at_one_revision()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = new EtcdClient(etcd.Endpoint);
        for (var i = 0; i < 1203; i++)
        {
            await client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"/registry/secrets/ns/s{i:D5}"), Value = ByteString.CopyFromUtf8($"v{i}") });
        }

        await client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("/registry/secretsX/outside"), Value = ByteString.CopyFromUtf8("x") });
        await client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("/registry/configmaps/ns/c"), Value = ByteString.CopyFromUtf8("x") });
        var scanner = new EtcdKeyScanner(client, pageSize: 100);

        Assert.Equal(1203, await scanner.CountAsync("/registry/secrets/", default));
        var seen = new List<string>();
        await foreach (var (key, value) in scanner.ScanAsync("/registry/secrets/", default))
        {
            seen.Add(key);
            if (seen.Count == 150)
            {
                // Written after the scan began: not part of its snapshot.
                await client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("/registry/secrets/ns/zz-late"), Value = ByteString.CopyFromUtf8("late") });
            }

            Assert.Equal($"v{int.Parse(key[^5..])}", System.Text.Encoding.UTF8.GetString(value.Span));
        }

        Assert.Equal(1203, seen.Count);
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);
        Assert.Equal(1204, await scanner.CountAsync("/registry/secrets/", default));
    }

    [Theory]
    [InlineData("/registry/secrets/", "/registry/secrets0")]
    [InlineData("a", "b")]
    public void Prefix_end_is_the_prefix_with_its_last_byte_incremented(string prefix, string end) =>
        Assert.Equal(end, EtcdKeyScanner.PrefixEnd(prefix).ToStringUtf8());
}
