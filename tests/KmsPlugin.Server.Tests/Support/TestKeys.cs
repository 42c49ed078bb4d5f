using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Keystore;

namespace KmsPlugin.Server.Tests.Support;

internal static class TestKeys
{
    /// <summary>The same in-memory software root key `serve --dev` uses.</summary>
    public static IRootKeyProvider Development() => KeystoreRootKeyProvider.CreateDevelopment();
}
