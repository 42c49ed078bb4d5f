using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

/// <summary>JSON says what type a scalar is; a YAML scalar is text whose meaning the setting decides.</summary>
internal enum ConfigScalarType
{
    Untyped,
    String,
    Number,
    Boolean,
}
