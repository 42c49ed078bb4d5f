using System.CommandLine;
using System.Globalization;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.Keys;
using KmsPlugin.Core.Keystore;
using KmsPlugin.Server.Diagnostics;
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
        var rootKeyTimeout = EnvOption("--root-key-timeout", EnvironmentVariables.RootKeyTimeout, "2s", "Upper bound of one root-key wrap or unwrap; keep it under kube-apiserver's KMS timeout (3s) so callers get Unavailable, not a hung call");
        var expiryWarning = EnvOption("--expiry-warning", EnvironmentVariables.ExpiryWarning, "720h", "Warn (log, metric) this long before the primary root key expires");
        var healthAddress = EnvOption("--health-address", EnvironmentVariables.HealthAddress, "127.0.0.1:8787", "IP:port for /livez, /healthz, /readyz and /metrics, or off");
        var provider = EnvOption("--provider", Pkcs11EnvironmentVariables.Provider, "software", "Where the root keys live: software (a keystore file) or pkcs11 (an HSM token)");
        var pkcs11Module = NullableEnvOption("--pkcs11-module", Pkcs11EnvironmentVariables.Module, "PKCS#11 module (.so) of the HSM, e.g. /usr/lib/softhsm/libsofthsm2.so");
        var pkcs11Token = NullableEnvOption("--pkcs11-token", Pkcs11EnvironmentVariables.Token, "Label of the token holding the root keys");
        var pkcs11Serial = NullableEnvOption("--pkcs11-token-serial", Pkcs11EnvironmentVariables.TokenSerial, "Serial number of the token, when several share its label");
        var pkcs11PinFile = NullableEnvOption("--pkcs11-pin-file", Pkcs11EnvironmentVariables.PinFile, $"File holding the token's user PIN (or the PIN itself in {Pkcs11EnvironmentVariables.Pin}; never on the command line)");
        var pkcs11Key = NullableEnvOption("--pkcs11-key", Pkcs11EnvironmentVariables.Key, "Label of the primary AES root key on the token");
        var pkcs11DecryptKeys = new Option<string[]>("--pkcs11-decrypt-key")
        {
            Description = $"Label of a decrypt-only AES root key (an older primary); repeat for several [env {Pkcs11EnvironmentVariables.DecryptKeys}, comma-separated]",
            DefaultValueFactory = _ => EnvironmentVariables.Get(Pkcs11EnvironmentVariables.DecryptKeys)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
            AllowMultipleArgumentsPerToken = false,
        };
        var pkcs11Sessions = EnvOption("--pkcs11-max-sessions", Pkcs11EnvironmentVariables.MaxSessions, "8", "PKCS#11 sessions open at most (one per concurrent HSM call)");
        var pkcs11Timeout = EnvOption("--pkcs11-call-timeout", Pkcs11EnvironmentVariables.CallTimeout, "2s", "Upper bound of every HSM call (kube-apiserver gives up after 3s)");

        // Fault drills only: hidden from --help, no environment variable, loud in the log when on.
        var faultsFile = new Option<string?>("--diagnostics-faults-file") { Hidden = true };

        var command = new Command("serve", "Serve the KMS API on a unix socket")
        {
            socket, keystore, passphraseFile, dev, socketMode, logLevel, grace, maxUses, maxAge, cacheSize, rootKeyTimeout, healthAddress, expiryWarning, faultsFile,
            provider, pkcs11Module, pkcs11Token, pkcs11Serial, pkcs11PinFile, pkcs11Key, pkcs11DecryptKeys, pkcs11Sessions, pkcs11Timeout,
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
            var warnBeforeExpiry = ParseDuration("--expiry-warning", parse.GetValue(expiryWarning)!, problems);
            var envelope = new EnvelopeOptions
            {
                DataKeyCacheCapacity = (int)ParseLong("--dek-cache-size", parse.GetValue(cacheSize)!, problems, int.MaxValue),
                RootKeyCallTimeout = ParseDuration("--root-key-timeout", parse.GetValue(rootKeyTimeout)!, problems),
                Rotation = new DataEncryptionKeyRotationPolicy
                {
                    MaxUses = ParseLong("--dek-max-uses", parse.GetValue(maxUses)!, problems, long.MaxValue),
                    MaxAge = ParseDuration("--dek-max-age", parse.GetValue(maxAge)!, problems),
                },
            };
            problems.AddRange(envelope.Validate());
            var faults = parse.GetValue(faultsFile) is { } faultsPath ? Path.GetFullPath(faultsPath) : null;
            if (faults is not null && RootKeyFaultsFile.Check(faults) is { } faultsProblem)
            {
                problems.Add(faultsProblem);
            }

            RootKeySource? source = null;
            switch (parse.GetValue(provider))
            {
                case "software":
                    source = isDev
                        ? RootKeySource.ForDevelopment()
                        : RootKeySource.ForKeystore(parse.GetValue(keystore), parse.GetValue(passphraseFile), problems);
                    break;
                case "pkcs11":
                    if (isDev)
                    {
                        problems.Add("--dev uses an in-memory software key; it cannot be combined with --provider pkcs11");
                    }

                    var settings = new Pkcs11Settings
                    {
                        ModulePath = parse.GetValue(pkcs11Module),
                        TokenLabel = parse.GetValue(pkcs11Token),
                        TokenSerial = parse.GetValue(pkcs11Serial),
                        PinFile = parse.GetValue(pkcs11PinFile),
                        KeyLabel = parse.GetValue(pkcs11Key),
                        DecryptKeyLabels = parse.GetValue(pkcs11DecryptKeys) ?? [],
                        MaxSessions = (int)ParseLong("--pkcs11-max-sessions", parse.GetValue(pkcs11Sessions)!, problems, 1024),
                        CallTimeout = ParseDuration("--pkcs11-call-timeout", parse.GetValue(pkcs11Timeout)!, problems),
                    };
                    source = RootKeySource.ForPkcs11(settings, problems);
                    break;
                default:
                    problems.Add($"--provider {parse.GetValue(provider)}: expected software or pkcs11");
                    break;
            }

            // Wrong PIN, missing key or mechanism: only the token can tell, and they are configuration
            // problems like the others. A token that is merely away is not: the plugin starts unhealthy.
            IKeyEncryptionKeyProvider? opened = null;
            if (problems.Count == 0 && source is { IsPkcs11: true })
            {
                try
                {
                    opened = source.Open();
                }
                catch (KmsException ex)
                {
                    problems.Add(ex.Message);
                }
            }

            if (problems.Count > 0)
            {
                await error.WriteLineAsync("kms-plugin serve: the configuration has problems:");
                foreach (var problem in problems)
                {
                    await error.WriteLineAsync($"  - {problem}");
                }

                return 2;
            }

            IKeyEncryptionKeyProvider rootKeys;
            try
            {
                rootKeys = opened ?? source!.Open();
            }
            catch (KmsException ex)
            {
                await error.WriteLineAsync($"kms-plugin serve: {ex.Message}");
                return 2;
            }

            var reload = !isDev && rootKeys is SoftwareKeyEncryptionKeyProvider software
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
                ExpiryWarning = warnBeforeExpiry,
                FaultsFile = faults,
            };
            await using var host = await PluginHost.StartAsync(options, rootKeys, cancellationToken: cancellationToken);
            if (isDev)
            {
                RootKeySource.WarnDevelopment(host.Services.GetRequiredService<ILoggerFactory>());
            }

            RootKeySource.WarnIfDisconnected(rootKeys, host.Services.GetRequiredService<ILoggerFactory>());

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

    private static Option<string?> NullableEnvOption(string name, string variable, string description) => new(name)
    {
        Description = $"{description} [env {variable}]",
        DefaultValueFactory = _ => EnvironmentVariables.Get(variable),
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
