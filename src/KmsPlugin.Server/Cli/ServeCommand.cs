using System.CommandLine;
using System.Globalization;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.Keys;
using KmsPlugin.Core.Keystore;
using KmsPlugin.Server.Hosting;

namespace KmsPlugin.Server.Cli;

internal static class ServeCommand
{
    public static Command Create()
    {
        var socket = CommonOptions.Socket();
        var keystore = CommonOptions.Keystore();
        var passphraseFile = CommonOptions.PassphraseFile();
        var dev = new Option<bool>("--dev")
        {
            Description = "Serve with an ephemeral in-memory root key. Data encrypted this way is lost when the process exits: never for production",
        };
        var socketMode = EnvOption("--socket-mode", EnvironmentVariables.SocketMode, "0600", "Socket file mode, octal; 0660 lets the plugin's group connect");
        var logLevel = EnvOption("--log-level", EnvironmentVariables.LogLevel, "Information", "Trace, Debug, Information, Warning, Error");
        var grace = EnvOption("--shutdown-grace", EnvironmentVariables.ShutdownGrace, "10s", "How long SIGTERM waits for in-flight calls");
        var maxUses = EnvOption("--dek-max-uses", EnvironmentVariables.DataKeyMaxUses, DataEncryptionKeyRotationPolicy.Default.MaxUses.ToString(CultureInfo.InvariantCulture), "Encryptions per plugin data key before it is replaced (at most 2^32)");
        var maxAge = EnvOption("--dek-max-age", EnvironmentVariables.DataKeyMaxAge, "24h", "Age at which the plugin data key is replaced");
        var cacheSize = EnvOption("--dek-cache-size", EnvironmentVariables.DataKeyCacheSize, "1000", "Unwrapped data keys kept in memory");
        var healthAddress = EnvOption("--health-address", EnvironmentVariables.HealthAddress, "127.0.0.1:8787", "IP:port for /livez, /healthz, /readyz and /metrics, or off");

        var command = new Command("serve", "Serve the KMS API on a unix socket")
        {
            socket, keystore, passphraseFile, dev, socketMode, logLevel, grace, maxUses, maxAge, cacheSize, healthAddress,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var problems = new List<string>();
            var isDev = parse.GetValue(dev);
            var socketPath = Path.GetFullPath(parse.GetValue(socket)!);
            problems.AddRange(UnixSocketFile.Check(socketPath));

            var mode = ParseMode(parse.GetValue(socketMode)!, problems);
            var level = ParseEnum<LogLevel>("--log-level", parse.GetValue(logLevel)!, problems);
            var shutdownGrace = ParseDuration("--shutdown-grace", parse.GetValue(grace)!, problems);
            var healthEndpoint = ParseEndpoint(parse.GetValue(healthAddress)!, problems);
            var envelope = new EnvelopeOptions
            {
                DataKeyCacheCapacity = (int)ParseLong("--dek-cache-size", parse.GetValue(cacheSize)!, problems, int.MaxValue),
                Rotation = new DataEncryptionKeyRotationPolicy
                {
                    MaxUses = ParseLong("--dek-max-uses", parse.GetValue(maxUses)!, problems, long.MaxValue),
                    MaxAge = ParseDuration("--dek-max-age", parse.GetValue(maxAge)!, problems),
                },
            };
            problems.AddRange(envelope.Validate());

            var source = isDev
                ? RootKeySource.ForDevelopment()
                : RootKeySource.ForKeystore(parse.GetValue(keystore), parse.GetValue(passphraseFile), problems);

            if (problems.Count > 0)
            {
                await error.WriteLineAsync("kms-plugin serve: the configuration has problems:");
                foreach (var problem in problems)
                {
                    await error.WriteLineAsync($"  - {problem}");
                }

                return 2;
            }

            IKeyEncryptionKeyProvider provider;
            try
            {
                provider = source!.Open();
            }
            catch (KmsException ex)
            {
                await error.WriteLineAsync($"kms-plugin serve: {ex.Message}");
                return 2;
            }

            var reload = !isDev && provider is SoftwareKeyEncryptionKeyProvider software
                ? KeystoreReload.Create(Path.GetFullPath(parse.GetValue(keystore)!), parse.GetValue(passphraseFile), software)
                : null;
            var options = new PluginHostOptions
            {
                Reload = reload,
                SocketPath = socketPath,
                SocketMode = mode,
                ShutdownGrace = shutdownGrace,
                Envelope = envelope,
                LogLevel = level,
                HealthEndpoint = healthEndpoint,
            };
            await using var host = await PluginHost.StartAsync(options, provider, cancellationToken: cancellationToken);
            if (isDev)
            {
                RootKeySource.WarnDevelopment(host.Services.GetRequiredService<ILoggerFactory>());
            }

            await host.RunUntilShutdownAsync();
            return 0;
        });
        return command;
    }

    private static Option<string> EnvOption(string name, string variable, string fallback, string description) => new(name)
    {
        Description = $"{description} [env {variable}; default {fallback}]",
        DefaultValueFactory = _ => EnvironmentVariables.Get(variable) ?? fallback,
    };

    private static UnixFileMode ParseMode(string text, List<string> problems)
    {
        try
        {
            var mode = (UnixFileMode)Convert.ToInt32(text, 8);
            if ((mode & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite)) != 0)
            {
                problems.Add($"--socket-mode {text}: only owner and group read/write bits are allowed (0600 or 0660)");
            }

            return mode;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            problems.Add($"--socket-mode {text}: not an octal file mode such as 0600");
            return PluginHostOptions.DefaultSocketMode;
        }
    }

    private static System.Net.IPEndPoint? ParseEndpoint(string text, List<string> problems)
    {
        if (text == "off")
        {
            return null;
        }

        if (System.Net.IPEndPoint.TryParse(text, out var endpoint) && text.Contains(':', StringComparison.Ordinal))
        {
            return endpoint;
        }

        problems.Add($"--health-address {text}: expected IP:port such as 127.0.0.1:8787, or off");
        return null;
    }

    private static TimeSpan ParseDuration(string name, string text, List<string> problems)
    {
        if (DurationText.TryParse(text, out var value) && value > TimeSpan.Zero)
        {
            return value;
        }

        problems.Add($"{name} {text}: not a positive duration such as 10s, 5m or 24h");
        return TimeSpan.FromSeconds(1);
    }

    private static long ParseLong(string name, string text, List<string> problems, long max)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= max)
        {
            return value;
        }

        problems.Add($"{name} {text}: not a whole number up to {max}");
        return 1;
    }

    private static T ParseEnum<T>(string name, string text, List<string> problems)
        where T : struct, Enum
    {
        if (Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value))
        {
            return value;
        }

        problems.Add($"{name} {text}: expected one of {string.Join(", ", Enum.GetNames<T>())}");
        return default;
    }
}
