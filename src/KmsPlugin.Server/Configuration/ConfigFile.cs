using KmsPlugin.Server.Cli;
using KmsPlugin.Server.RootKeys;

namespace KmsPlugin.Server.Configuration;

/// <summary>
/// A `serve --config` file, YAML or JSON, checked against <see cref="ServeSettings"/>: every unknown
/// key (with a did-you-mean), wrong type and secret is a problem, all reported together. Secrets are
/// never read from it: only the files that hold them.
/// </summary>
internal sealed class ConfigFile
{
    private static readonly IReadOnlyDictionary<string, ServeSetting> SecretKeys = RootKeyModules.SecretConfigKeys;

    private readonly Dictionary<string, ConfigValue> _values = new(StringComparer.Ordinal);
    private readonly List<string> _problems = [];

    private ConfigFile(string path)
    {
        Path = path;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, ConfigValue> Values => _values;

    /// <summary>Reads and checks <paramref name="path"/>, adding every problem to <paramref name="problems"/>.</summary>
    public static ConfigFile Load(string path, List<string> problems)
    {
        var file = new ConfigFile(System.IO.Path.GetFullPath(path));
        string text;
        try
        {
            text = File.ReadAllText(file.Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add($"config file {file.Path}: cannot be read: {ex.Message}");
            return file;
        }

        try
        {
            var root = IsJson(file.Path, text) ? JsonConfigReader.Read(text) : YamlConfigReader.Read(text);
            file.Check(root);
        }
        catch (ConfigFormatException ex)
        {
            file._problems.Add($"{file.Where(ex.Line)}: {ex.Message}");
        }

        problems.AddRange(file._problems);
        return file;
    }

    private static bool IsJson(string path, string text) =>
        path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
        || (!path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) && !path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)
            && text.TrimStart().StartsWith('{'));

    private string Where(int? line) => line is { } number ? $"{Path}:{number}" : Path;

    private void Check(ConfigNode root)
    {
        switch (root.Kind)
        {
            case ConfigNodeKind.Null:
                return;
            case ConfigNodeKind.Mapping:
                CheckMapping(root, prefix: "");
                return;
            default:
                _problems.Add($"{Where(root.Line)}: expected a mapping of settings at the top, found {root.Describe()}");
                return;
        }
    }

    private void CheckMapping(ConfigNode mapping, string prefix)
    {
        foreach (var (name, node) in mapping.Entries)
        {
            var key = prefix + name;
            if (ServeSettings.Find(key) is { } setting)
            {
                Convert(setting, node);
            }
            else if (ServeSettings.Sections.Contains(key))
            {
                if (node.Kind == ConfigNodeKind.Mapping)
                {
                    CheckMapping(node, key + ".");
                }
                else if (node.Kind != ConfigNodeKind.Null)
                {
                    _problems.Add($"{Where(node.Line)}: {key}: expected a mapping of settings, found {node.Describe()}");
                }
            }
            else if (SecretKeys.TryGetValue(name, out var fileSetting))
            {
                _problems.Add($"{Where(node.Line)}: {key}: secrets are never read from the config file; " +
                    $"put it in a file readable only by the plugin and set {fileSetting.Key} to that file's path");
            }
            else
            {
                var suggestion = DidYouMean.Find(key, ServeSettings.All.Select(s => s.Key).Concat(ServeSettings.Sections));
                _problems.Add($"{Where(node.Line)}: {key}: unknown setting" + (suggestion is null ? "" : $"; did you mean {suggestion}?"));
            }
        }
    }

    private void Convert(ServeSetting setting, ConfigNode node)
    {
        var origin = $"{Where(node.Line)}: {setting.Key}";
        if (node.Kind == ConfigNodeKind.Null)
        {
            return;
        }

        if (setting.Kind == SettingKind.TextList)
        {
            if (node.Kind == ConfigNodeKind.Sequence && node.Items.All(i => i.Kind == ConfigNodeKind.Scalar && i.ScalarType is ConfigScalarType.Untyped or ConfigScalarType.String))
            {
                _values[setting.Key] = ConfigValue.List(node.Items.Select(i => i.Scalar!).ToList(), origin);
            }
            else
            {
                _problems.Add($"{origin}: expected a list of strings, found {node.Describe()}");
            }

            return;
        }

        var expected = setting.Kind switch
        {
            SettingKind.WholeNumber => ConfigScalarType.Number,
            SettingKind.Switch => ConfigScalarType.Boolean,
            _ => ConfigScalarType.String,
        };
        if (node.Kind != ConfigNodeKind.Scalar || (node.ScalarType != ConfigScalarType.Untyped && node.ScalarType != expected))
        {
            _problems.Add($"{origin}: expected {Expected(setting)}, found {node.Describe()}");
            return;
        }

        _values[setting.Key] = ConfigValue.Scalar(node.Scalar, origin);
    }

    private static string Expected(ServeSetting setting) => setting.Kind switch
    {
        SettingKind.WholeNumber => "a whole number",
        SettingKind.Switch => "true or false",
        SettingKind.Duration => "a duration string such as \"10s\"",
        _ => setting.Default is { } example ? $"a string such as \"{example}\"" : "a string",
    };
}
