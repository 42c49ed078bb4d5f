using KmsPlugin.Core.Keys;
using KmsPlugin.Core.Keystore;

namespace KmsPlugin.Server.Tests.Support;

internal static class TestKeys
{
    /// <summary>The same in-memory software root key `serve --dev` uses.</summary>
    public static IKeyEncryptionKeyProvider Development() => SoftwareKeyEncryptionKeyProvider.CreateDevelopment();
}
