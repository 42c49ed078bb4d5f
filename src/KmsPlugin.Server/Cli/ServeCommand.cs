using System.CommandLine;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Configuration;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.RootKeys.Faults;

namespace KmsPlugin.Server.Cli;

internal static class ServeCommand
{
    public const string ConfigFlag = "--config";

    public static Command Create()
    {
        var config = new Option<string?>(ConfigFlag)
        {
            Description = $"YAML or JSON file with serve settings; flags and environment variables override it; reloaded on change and SIGHUP [env {EnvironmentVariables.Config}]",
        };
        var options = ServeSettings.All.ToDictionary(s => s, s => s.CreateOption());
        var command = new Command("serve", "Serve the KMS API on a unix socket") { config };
        foreach (var option in options.Values)
        {
            command.Options.Add(option);
        }

        // Fault drills only: hidden from --help, no environment variable or config key, loud in the log when on.
        var faultsFile = new Option<string?>("--diagnostics-faults-file") { Hidden = true };
        command.Options.Add(faultsFile);

        command.SetAction(async (parse, cancellationToken) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var problems = new List<string>();
            var configPath = parse.GetValue(config) ?? EnvironmentVariables.Get(EnvironmentVariables.Config);
            var file = configPath is null ? null : ConfigFile.Load(configPath, problems);
            SettingSources Sources(ConfigFile? f) => new(setting => FlagValue(parse, setting, options[setting]), f, EnvironmentVariables.Get);
            var settings = ServeConfiguration.Resolve(Sources(file), problems);
            problems.AddRange(UnixSocketFile.Check(settings.SocketPath));
            var faults = parse.GetValue(faultsFile) is { } faultsPath ? Path.GetFullPath(faultsPath) : null;
            if (faults is not null && RootKeyFaultsFile.Check(faults) is { } faultsProblem)
            {
                problems.Add(faultsProblem);
            }

            var source = settings.Provider switch
            {
                ServeConfiguration.Pkcs11Provider => RootKeySource.ForPkcs11(settings.Pkcs11, problems),
                _ when settings.Dev => RootKeySource.ForDevelopment(),
                _ => RootKeySource.ForKeystore(settings.KeystorePath, settings.PassphraseFile, problems),
            };

            // Wrong PIN, missing key or mechanism: only the token can tell, and they are configuration
            // problems like the others. A token that is merely away is not: the plugin starts unhealthy.
            IRootKeyProvider? opened = null;
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

            IRootKeyProvider rootKeys;
            try
            {
                rootKeys = opened ?? source!.Open();
            }
            catch (KmsException ex)
            {
                await error.WriteLineAsync($"kms-plugin serve: {ex.Message}");
                return 2;
            }

            var levels = new LogLevelSwitch(settings.LogLevel);
            var reload = new ServeReload(file?.Path, Sources, settings, levels, rootKeys);
            var hostOptions = new PluginHostOptions
            {
                Reload = reload.ToRootKeyReload(),
                SocketPath = settings.SocketPath,
                SocketMode = settings.SocketMode,
                ShutdownGrace = settings.ShutdownGrace,
                Envelope = settings.Envelope,
                LogLevel = settings.LogLevel,
                LogLevelSwitch = levels,
                HealthEndpoint = settings.HealthEndpoint,
                ExpiryWarning = settings.ExpiryWarning,
                FaultsFile = faults,
            };
            return await ServeRun.RunAsync(hostOptions, rootKeys, settings.Dev, error, cancellationToken);
        });
        return command;
    }

    /// <summary>The setting's value when its flag was given on the command line, else null.</summary>
    internal static ConfigValue? FlagValue(ParseResult parse, ServeSetting setting, Option option)
    {
        if (parse.GetResult(option) is not { Implicit: false })
        {
            return null;
        }

        return option switch
        {
            Option<bool> flag => parse.GetValue(flag) ? ConfigValue.Scalar("true", setting.Flag) : null,
            Option<string[]> list => ConfigValue.List(parse.GetValue(list) ?? [], setting.Flag),
            Option<string?> text => ConfigValue.Scalar(parse.GetValue(text), setting.Flag),
            _ => throw new InvalidOperationException($"unexpected option type for {setting.Flag}"),
        };
    }
}
