namespace KmsPlugin.Server.Cli.Configuration;

internal enum ConfigNodeKind
{
    Null,
    Scalar,
    Mapping,
    Sequence,
}
