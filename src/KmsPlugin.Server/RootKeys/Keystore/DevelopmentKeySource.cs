using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Keystore;

namespace KmsPlugin.Server.RootKeys.Keystore;

/// <summary>The ephemeral in-memory root key of <c>--dev</c>.</summary>
internal sealed class DevelopmentKeySource : IRootKeySource
{
    public string Description => "development key";

    public bool OpeningChecksConfiguration => false;

    public IRootKeyProvider Open() => KeystoreRootKeyProvider.CreateDevelopment();
}
