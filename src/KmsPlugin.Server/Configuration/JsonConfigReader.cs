using System.Text.Json;

using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

/// <summary>Reads a JSON config file into a <see cref="ConfigNode"/> tree (comments and trailing commas allowed).</summary>
internal static class JsonConfigReader
{
    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static ConfigNode Read(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, Options);
            return Convert(document.RootElement);
        }
        catch (JsonException ex)
        {
            var line = ex.LineNumber is { } zeroBased ? (int)zeroBased + 1 : (int?)null;
            throw new ConfigFormatException("not valid JSON: " + ex.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0], line);
        }
    }

    private static ConfigNode Convert(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var entries = new List<KeyValuePair<string, ConfigNode>>();
                foreach (var property in element.EnumerateObject())
                {
                    if (entries.Any(e => e.Key == property.Name))
                    {
                        throw new ConfigFormatException($"key \"{property.Name}\" appears twice", null);
                    }

                    entries.Add(new(property.Name, Convert(property.Value)));
                }

                return new ConfigNode(ConfigNodeKind.Mapping, null) { Entries = entries };
            case JsonValueKind.Array:
                return new ConfigNode(ConfigNodeKind.Sequence, null) { Items = element.EnumerateArray().Select(Convert).ToList() };
            case JsonValueKind.String:
                return Scalar(element.GetString()!, ConfigScalarType.String);
            case JsonValueKind.Number:
                return Scalar(element.GetRawText(), ConfigScalarType.Number);
            case JsonValueKind.True or JsonValueKind.False:
                return Scalar(element.GetRawText(), ConfigScalarType.Boolean);
            default:
                return new ConfigNode(ConfigNodeKind.Null, null);
        }
    }

    private static ConfigNode Scalar(string text, ConfigScalarType type) =>
        new(ConfigNodeKind.Scalar, null) { Scalar = text, ScalarType = type };
}
