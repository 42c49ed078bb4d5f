using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

/// <summary>
/// Where each serve setting comes from, highest first: a flag given on the command line, its
/// environment variable, the config file, the built-in default.
/// </summary>
internal sealed class SettingSources
{
    private readonly Func<ServeSetting, ConfigValue?> _flags;
    private readonly Func<string, string?> _environment;

    public SettingSources(Func<ServeSetting, ConfigValue?> flags, ConfigFile? file, Func<string, string?> environment)
    {
        _flags = flags;
        File = file;
        _environment = environment;
    }

    public ConfigFile? File { get; }

    public ConfigValue Resolve(ServeSetting setting)
    {
        if (_flags(setting) is { } flag)
        {
            return flag;
        }

        if (setting.EnvironmentVariable is { } variable && _environment(variable) is { } text)
        {
            return setting.Kind == SettingKind.TextList
                ? ConfigValue.List(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), variable)
                : ConfigValue.Scalar(text, variable);
        }

        if (File?.Values.GetValueOrDefault(setting.Key) is { } fromFile)
        {
            return fromFile;
        }

        return ConfigValue.Scalar(setting.Default, $"{setting.Flag} (default)");
    }

    /// <summary>Every setting as resolved now, by config key.</summary>
    public IReadOnlyDictionary<string, ConfigValue> ResolveAll() =>
        ServeSettings.All.ToDictionary(s => s.Key, Resolve, StringComparer.Ordinal);
}
