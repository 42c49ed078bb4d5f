using System.Text.Json;

namespace KmsPlugin.LoadGen.Cli;

/// <summary>The snake_case JSON every command writes and <c>report</c> reads.</summary>
internal static class JsonOutput
{
    public static JsonSerializerOptions Options { get; } = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
