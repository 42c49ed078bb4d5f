using KmsPlugin.Server.Cli;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace KmsPlugin.Server.Configuration;

/// <summary>Reads a YAML config file into a <see cref="ConfigNode"/> tree, keeping line numbers.</summary>
internal static class YamlConfigReader
{
    public static ConfigNode Read(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new ConfigFormatException($"not valid YAML: {ex.InnerException?.Message ?? ex.Message}", (int)ex.Start.Line);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet throws these for some malformed input (an unclosed flow sequence), without a position.
            throw new ConfigFormatException("not valid YAML (check brackets, quotes and indentation)", null);
        }

        return stream.Documents.Count switch
        {
            0 => new ConfigNode(ConfigNodeKind.Null, null),
            1 => Convert(stream.Documents[0].RootNode),
            _ => throw new ConfigFormatException("holds several YAML documents; expected one", (int)stream.Documents[1].RootNode.Start.Line),
        };
    }

    private static ConfigNode Convert(YamlNode node)
    {
        var line = (int)node.Start.Line;
        switch (node)
        {
            case YamlScalarNode scalar:
                var plain = scalar.Style is ScalarStyle.Plain or ScalarStyle.Any;
                return plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL"
                    ? new ConfigNode(ConfigNodeKind.Null, line)
                    : new ConfigNode(ConfigNodeKind.Scalar, line) { Scalar = scalar.Value ?? "" };
            case YamlSequenceNode sequence:
                return new ConfigNode(ConfigNodeKind.Sequence, line) { Items = sequence.Children.Select(Convert).ToList() };
            case YamlMappingNode mapping:
                var entries = new List<KeyValuePair<string, ConfigNode>>();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        throw new ConfigFormatException("a mapping key must be a plain name", (int)key.Start.Line);
                    }

                    // Report the key's line: that is where an operator looks for the setting.
                    entries.Add(new(name, Convert(value) with { Line = (int)key.Start.Line }));
                }

                return new ConfigNode(ConfigNodeKind.Mapping, line) { Entries = entries };
            default:
                throw new ConfigFormatException("unsupported YAML node (aliases are not supported)", line);
        }
    }
}
