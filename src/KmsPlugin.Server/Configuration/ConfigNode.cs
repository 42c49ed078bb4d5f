using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

/// <summary>
/// A config-file document, YAML or JSON, as one neutral tree, so unknown keys, types and secrets are
/// checked once for both formats. <see cref="Line"/> is 1-based where the format gives it.
/// </summary>
internal sealed record ConfigNode(ConfigNodeKind Kind, int? Line)
{
    public string? Scalar { get; init; }

    public ConfigScalarType ScalarType { get; init; } = ConfigScalarType.Untyped;

    public IReadOnlyList<KeyValuePair<string, ConfigNode>> Entries { get; init; } = [];

    public IReadOnlyList<ConfigNode> Items { get; init; } = [];

    public string Describe() => Kind switch
    {
        ConfigNodeKind.Mapping => "a mapping",
        ConfigNodeKind.Sequence => "a list",
        ConfigNodeKind.Null => "nothing",
        _ => ScalarType switch
        {
            ConfigScalarType.String => "a string",
            ConfigScalarType.Number => "a number",
            ConfigScalarType.Boolean => "true/false",
            _ => "a single value",
        },
    };
}
