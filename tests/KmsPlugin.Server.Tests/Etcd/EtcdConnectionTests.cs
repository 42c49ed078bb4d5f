using Etcdserverpb;
using Google.Protobuf;
using KmsPlugin.Server.Etcd;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Etcd;

public sealed class EtcdConnectionTests
{
    [Fact]
    public async Task Connects_to_an_etcd_that_requires_client_certificates_with_the_etcdctl_style_files()
    {
        using var dir = new TempDirectory();
        var tls = TestCertificates.Create(dir.Path);
        await using var etcd = await EtcdServer.StartAsync(tls);

        Assert.Empty(EtcdConnection.Check(etcd.Endpoint, tls.CaFile, tls.ClientCertFile, tls.ClientKeyFile));
        using var client = EtcdConnection.Connect(etcd.Endpoint, tls.CaFile, tls.ClientCertFile, tls.ClientKeyFile);
        await client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("/registry/secrets/a/b"), Value = ByteString.CopyFromUtf8("x") });
        Assert.Equal(1, await new EtcdKeyScanner(client).CountAsync("/registry/secrets/", default));

        using var noClientCertificate = EtcdConnection.Connect(etcd.Endpoint, tls.CaFile, null, null);
        await Assert.ThrowsAnyAsync<Exception>(() => new EtcdKeyScanner(noClientCertificate).CountAsync("/registry/secrets/", default));

        using var untrusted = EtcdConnection.Connect(etcd.Endpoint, tls.ClientCertFile, tls.ClientCertFile, tls.ClientKeyFile);
        await Assert.ThrowsAnyAsync<Exception>(() => new EtcdKeyScanner(untrusted).CountAsync("/registry/secrets/", default));
    }

    [Fact]
    public void Bad_connection_settings_are_all_reported()
    {
        var problems = EtcdConnection.Check("ftp://x, http://127.0.0.1:2379", "/nope/ca.crt", "/nope/client.crt", null);
        Assert.Equal(4, problems.Count);
    }
}
