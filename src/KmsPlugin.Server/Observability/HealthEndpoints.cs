using KmsPlugin.Server.Hosting;
using Prometheus;

namespace KmsPlugin.Server.Observability;

/// <summary>
/// /livez (the process serves; never depends on the root key, so a kubelet liveness probe never
/// restarts the plugin because an HSM is away), /healthz and /readyz (the cached root-key check,
/// a fixed reason phrase in the body: the detail names key ids and paths, so only the log, v2
/// Status and `kms-plugin status` carry it), /metrics. Reached only over the loopback TCP listener, never the KMS socket.
/// </summary>
internal static class HealthEndpoints
{
    public static void Map(WebApplication app, PluginMetrics metrics)
    {
        // Runs before every KMS call too: no async frame and no closure of its own.
        app.Use(static (context, next) =>
        {
            var overTcp = context.Connection.LocalIpAddress is not null;
            if (overTcp != IsHealthPath(context.Request.Path.Value))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });

        app.MapGet("/livez", () => Results.Text("ok\n"));
        app.MapGet("/healthz", (RootKeyHealthProbe health) => Answer(health));
        app.MapGet("/readyz", (RootKeyHealthProbe health) => Answer(health));
        app.MapMetrics("/metrics", metrics.Registry);
    }

    private static bool IsHealthPath(string? path) => path is "/livez" or "/healthz" or "/readyz" or "/metrics";

    private static IResult Answer(RootKeyHealthProbe health)
    {
        var reason = health.PublicHealthz;
        return reason is HealthReasons.Ok
            ? Results.Text("ok\n")
            : Results.Text($"unhealthy: {reason}; the plugin log and `kms-plugin status` say why\n", statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
