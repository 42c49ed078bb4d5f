using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

internal enum ConfigNodeKind
{
    Null,
    Scalar,
    Mapping,
    Sequence,
}
