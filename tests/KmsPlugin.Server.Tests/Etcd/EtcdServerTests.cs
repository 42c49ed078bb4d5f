using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Etcd;

public sealed class EtcdServerTests
{
    [Fact]
    public async Task A_real_etcd_starts_and_stores_bytes()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = new EtcdClient(etcd.Endpoint);
        await client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("/registry/secrets/a/b"), Value = ByteString.CopyFrom(1, 2, 3) });
        var range = await client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("/registry/secrets/a/b") });
        Assert.Equal(new byte[] { 1, 2, 3 }, Assert.Single(range.Kvs).Value.ToByteArray());
    }
}
