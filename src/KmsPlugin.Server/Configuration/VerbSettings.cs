using System.CommandLine;
using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

/// <summary>
/// Rows of the settings table on a verb other than `serve`: the same flags, variables, config-file
/// keys and defaults, and <c>--config</c> for the file. A flag the verb used to spell otherwise
/// (<c>pkcs11 --module</c>) stays accepted as a deprecated alias.
/// </summary>
internal sealed class VerbSettings
{
    private readonly Dictionary<ServeSetting, Option> _options;

    public VerbSettings(IEnumerable<ServeSetting> settings, IReadOnlyDictionary<ServeSetting, string>? deprecatedFlags = null)
    {
        _options = settings.ToDictionary(s => s, s => s.CreateOption(deprecatedFlags?.GetValueOrDefault(s)));
        Config = new Option<string?>(ServeCommand.ConfigFlag)
        {
            Description = $"YAML or JSON file with serve settings; only this command's are read, and flags and environment variables override them [env {EnvironmentVariables.Config}]",
        };
    }

    public Option<string?> Config { get; }

    public void AddTo(Command command)
    {
        command.Options.Add(Config);
        foreach (var option in _options.Values)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>True when <c>--config</c> or any of the verb's setting flags is on the command line.</summary>
    public bool Given(ParseResult parse) =>
        parse.GetResult(Config) is { Implicit: false } || _options.Values.Any(option => parse.GetResult(option) is { Implicit: false });

    /// <summary>
    /// Merges flags, variables, the config file and defaults, as `serve` does; file problems are added.
    /// Only this verb's variables are read: the others' values come from the file or the defaults.
    /// </summary>
    public SettingSources Resolve(ParseResult parse, List<string> problems)
    {
        var configPath = parse.GetValue(Config) ?? EnvironmentVariables.Get(EnvironmentVariables.Config);
        var file = configPath is null ? null : ConfigFile.Load(configPath, problems);
        return new SettingSources(
            setting => _options.TryGetValue(setting, out var option) ? ServeCommand.FlagValue(parse, setting, option) : null,
            file,
            name => _options.Keys.Any(s => s.EnvironmentVariable == name) ? EnvironmentVariables.Get(name) : null);
    }
}
