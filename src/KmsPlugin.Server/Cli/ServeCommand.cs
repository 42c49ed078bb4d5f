using System.CommandLine;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Configuration;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.RootKeys;
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

        command.SetAction((parse, cancellationToken) => RunAsync(parse, config, options, faultsFile, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, Option<string?> config, Dictionary<ServeSetting, Option> options, Option<string?> faultsFile, CancellationToken cancellationToken)
    {
        var error = parse.InvocationConfiguration.Error;
        var problems = new List<string>();
        var configPath = parse.GetValue(config) ?? EnvironmentVariables.Get(EnvironmentVariables.Config);
        var file = configPath is null ? null : ConfigFile.Load(configPath, problems);
        SettingSources Sources(ConfigFile? f) => new(setting => FlagValue(parse, setting, options[setting]), f, EnvironmentVariables.Get);
        var settings = ServeConfiguration.Resolve(Sources(file), problems);
        problems.AddRange(UnixSocketFile.Check(settings.Host.SocketPath));
        var faults = CheckFaultsFile(parse.GetValue(faultsFile), problems);
        var source = settings.RootKeys.Check(settings, problems);
        var opened = OpenToCheck(source, problems);
        if (problems.Count > 0)
        {
            await ReportProblemsAsync(error, problems);
            return ServeRun.BadConfiguration;
        }

        IRootKeyProvider rootKeys;
        try
        {
            rootKeys = opened ?? source!.Open();
        }
        catch (KmsException ex)
        {
            await error.WriteLineAsync($"kms-plugin serve: {ex.Message}");
            return ServeRun.BadConfiguration;
        }

        var levels = new LogLevelSwitch(settings.Host.LogLevel);
        var reload = new ServeSettingsReload(file?.Path, Sources, settings, levels, rootKeys);
        var hostOptions = settings.Host with { Reload = reload.ToReloadRequest(), LogLevelSwitch = levels, FaultsFile = faults };
        return await ServeRun.RunAsync(hostOptions, rootKeys, settings.RootKeys, error, cancellationToken);
    }

    private static string? CheckFaultsFile(string? path, List<string> problems)
    {
        var faults = path is null ? null : Path.GetFullPath(path);
        if (faults is not null && RootKeyFaultsFile.Check(faults) is { } faultsProblem)
        {
            problems.Add(faultsProblem);
        }

        return faults;
    }

    /// <summary>
    /// Wrong PIN, missing key or mechanism: only the token can tell, and they are configuration
    /// problems like the others. A token that is merely away is not: the plugin starts unhealthy.
    /// </summary>
    private static IRootKeyProvider? OpenToCheck(IRootKeySource? source, List<string> problems)
    {
        if (problems.Count > 0 || source is not { OpeningChecksConfiguration: true })
        {
            return null;
        }

        try
        {
            return source.Open();
        }
        catch (KmsException ex)
        {
            problems.Add(ex.Message);
            return null;
        }
    }

    private static async Task ReportProblemsAsync(TextWriter error, List<string> problems)
    {
        await error.WriteLineAsync("kms-plugin serve: the configuration has problems:");
        foreach (var problem in problems)
        {
            await error.WriteLineAsync($"  - {problem}");
        }
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
