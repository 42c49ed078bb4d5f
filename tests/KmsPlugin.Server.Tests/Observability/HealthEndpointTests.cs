using System.Net;
using Google.Protobuf;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Observability;

public sealed class HealthEndpointTests : IAsyncLifetime
{
    private readonly ObservedKeyProvider _provider = new(TestKeys.Development());
    private readonly HttpClient _http = new();
    private RunningPlugin _plugin = null!;

    public async Task InitializeAsync()
    {
        _plugin = await RunningPlugin.StartAsync(_provider, o => o with { HealthEndpoint = new IPEndPoint(IPAddress.Loopback, 0) });
        _http.BaseAddress = _plugin.Host.HealthAddress;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _plugin.DisposeAsync();
    }

    [Fact]
    public async Task Livez_healthz_and_readyz_answer_ok_on_loopback()
    {
        Assert.Equal(IPAddress.Loopback.ToString(), _plugin.Host.HealthAddress!.Host);
        foreach (var path in new[] { "/livez", "/healthz", "/readyz" })
        {
            var response = await _http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_root_key_outage_fails_healthz_with_a_fixed_reason_but_never_livez()
    {
        _provider.Unreachable = true;
        await _plugin.Host.Health.CheckNowAsync(default);

        var healthz = await _http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, healthz.StatusCode);
        Assert.Equal("unhealthy: root key unavailable; the plugin log and `kms-plugin status` say why\n", await healthz.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _http.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/livez")).StatusCode);
        Assert.Contains("kms_plugin_root_key_healthy{provider=\"software\"} 0", await _http.GetStringAsync("/metrics"));

        _provider.Unreachable = false;
        await _plugin.Host.Health.CheckNowAsync(default);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Healthz_never_shows_the_detail_which_names_key_ids_and_paths_but_v2_status_does()
    {
        var keyId = _provider.Primary.KeyId;
        _provider.Unreachable = true;
        await _plugin.Host.Health.CheckNowAsync(default);

        var bodies = new[] { await (await _http.GetAsync("/healthz")).Content.ReadAsStringAsync(), await (await _http.GetAsync("/readyz")).Content.ReadAsStringAsync() };
        var status = await _plugin.V2.StatusAsync(new Protocol.V2.StatusRequest());

        Assert.All(bodies, body =>
        {
            Assert.DoesNotContain("not reachable (test)", body);
            Assert.DoesNotContain(keyId, body);
            Assert.DoesNotContain(_provider.Primary.Key.Id, body);
            Assert.Contains(Server.Hosting.HealthReasons.All, reason => body.StartsWith($"unhealthy: {reason};", StringComparison.Ordinal));
        });
        Assert.Equal("root key check failed: root key provider not reachable (test)", status.Healthz);
    }

    [Fact]
    public async Task Metrics_count_calls_by_closed_labels_and_never_name_a_key()
    {
        var encrypted = await _plugin.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(new byte[32]) });
        await _plugin.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = encrypted.Cipher });
        await Assert.ThrowsAnyAsync<Exception>(async () => await _plugin.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = ByteString.CopyFrom(new byte[40]) }));
        await _plugin.V2.StatusAsync(new Protocol.V2.StatusRequest());

        var metrics = await _http.GetStringAsync("/metrics");

        Assert.Contains("kms_plugin_requests_total{api=\"v1\",operation=\"Encrypt\",outcome=\"OK\"} 1", metrics);
        Assert.Contains("kms_plugin_requests_total{api=\"v1\",operation=\"Decrypt\",outcome=\"OK\"} 1", metrics);
        Assert.Contains("kms_plugin_requests_total{api=\"v1\",operation=\"Decrypt\",outcome=\"InvalidArgument\"} 1", metrics);
        Assert.Contains("kms_plugin_requests_total{api=\"v2\",operation=\"Status\",outcome=\"OK\"} 1", metrics);
        Assert.Contains("kms_plugin_request_duration_seconds_bucket{api=\"v1\",operation=\"Encrypt\",le=\"3\"} 1", metrics);
        Assert.Contains("kms_plugin_dek_cache_hits_total 1", metrics);
        Assert.Contains("kms_plugin_dek_rotations_total 1", metrics);
        Assert.Contains("kms_plugin_root_key_healthy{provider=\"software\"} 1", metrics);
        Assert.Contains("kms_plugin_build_info{version=", metrics);
        Assert.DoesNotContain(_provider.Primary.Key.Id, metrics);
        Assert.DoesNotContain("kek-", metrics);
    }

    [Fact]
    public async Task The_kms_api_is_not_reachable_over_tcp_and_health_is_not_reachable_over_the_socket()
    {
        var overTcp = await _http.PostAsync("/v1beta1.KeyManagementService/Version", new ByteArrayContent([]));
        Assert.Equal(HttpStatusCode.NotFound, overTcp.StatusCode);

        using var socketClient = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(_plugin.SocketPath), ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var overSocket = await socketClient.GetAsync("http://localhost/metrics");
        Assert.Equal(HttpStatusCode.NotFound, overSocket.StatusCode);
    }
}
