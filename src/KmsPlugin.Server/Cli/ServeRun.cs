using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.RootKeys;

namespace KmsPlugin.Server.Cli;

/// <summary>
/// `serve` once its configuration is checked and its root keys are open: start, run until a
/// signal, and the exit code. A start-up failure is one line (exit 2 when a setting is the
/// cause, 1 otherwise), never a stack trace; a stop without a signal exits 1, so a supervisor
/// restarts the plugin; the root keys are disposed on every path.
/// </summary>
internal static class ServeRun
{
    public const int Stopped = 0;
    public const int Failed = 1;
    public const int BadConfiguration = 2;

    public static async Task<int> RunAsync(PluginHostOptions options, IRootKeyProvider rootKeys, IRootKeyModule module, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            await using var host = await PluginHost.StartAsync(options, rootKeys, cancellationToken: cancellationToken);
            var logging = host.Services.GetRequiredService<ILoggerFactory>();
            module.OnStarted(rootKeys, logging);
            await host.RunUntilShutdownAsync();
            if (host.StoppedBySignal)
            {
                return Stopped;
            }

            await error.WriteLineAsync("kms-plugin serve: stopped without a signal (see the log above for why); exit code 1");
            return Failed;
        }
        catch (PluginStartException ex)
        {
            await error.WriteLineAsync($"kms-plugin serve: {ex.Message}");
            return BadConfiguration;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("kms-plugin serve: interrupted while starting");
            return Failed;
        }
        catch (Exception ex)
        {
            // Details of an unexpected failure go to one line; its type names the cause for a bug report.
            await error.WriteLineAsync($"kms-plugin serve: failed: {OneLine(ex.Message)} ({ex.GetType().Name})");
            return Failed;
        }
        finally
        {
            (rootKeys as IDisposable)?.Dispose();
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
