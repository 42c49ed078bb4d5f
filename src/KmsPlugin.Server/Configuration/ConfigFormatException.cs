using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

/// <summary>The config file is not well-formed YAML or JSON; <see cref="Line"/> where the parser knows it.</summary>
internal sealed class ConfigFormatException(string message, int? line) : Exception(message)
{
    public int? Line { get; } = line;
}
