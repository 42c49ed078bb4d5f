using System.Diagnostics;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>A real etcd (Debian's etcd-server) on loopback, in a temp data directory, for one test class.</summary>
internal sealed class EtcdServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private EtcdServer(Process process, TempDirectory directory, string endpoint)
    {
        _process = process;
        _directory = directory;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    /// <summary>With <paramref name="tls"/>, etcd serves https and requires a client certificate, as in a kubeadm cluster.</summary>
    public static async Task<EtcdServer> StartAsync(TestCertificates? tls = null)
    {
        const string binary = "/usr/bin/etcd";
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException("etcd is not installed: run scripts/test.sh (it installs Debian's etcd-server)");
        }

        var directory = new TempDirectory();
        var clientPort = LoopbackPorts.Free();
        var peerPort = LoopbackPorts.Free();
        var client = $"{(tls is null ? "http" : "https")}://127.0.0.1:{clientPort}";
        var peer = $"http://127.0.0.1:{peerPort}";
        var process = ProcessRunner.Start(binary,
        [
            "--name", "test", "--data-dir", directory.File("data"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"test={peer}", "--log-level", "error",
            .. (tls is null ? Array.Empty<string>() :
            [
                "--cert-file", tls.ServerCertFile, "--key-file", tls.ServerKeyFile,
                "--client-cert-auth", "--trusted-ca-file", tls.CaFile,
            ]),
        ]);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new EtcdServer(process, directory, client);

        using var handler = new HttpClientHandler();
        if (tls is not null)
        {
            handler.ClientCertificates.Add(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(tls.ClientCertFile, tls.ClientKeyFile));
            handler.ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator;
        }

        using var http = new HttpClient(handler);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var health = await http.GetStringAsync($"{client}/health");
                if (health.Contains("\"true\"", StringComparison.Ordinal))
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException("etcd did not become healthy");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _directory.Dispose();
    }
}
