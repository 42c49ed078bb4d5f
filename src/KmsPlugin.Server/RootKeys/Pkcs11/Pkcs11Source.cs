using System.Security.Cryptography;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Pkcs11;

namespace KmsPlugin.Server.RootKeys.Pkcs11;

/// <summary>
/// A token whose settings passed their checks. Opening logs in: configuration problems found on the
/// token (wrong PIN, key or mechanism missing) throw; a token that cannot be reached yet gives a
/// provider that reports unhealthy and reconnects by itself. The PIN is zeroed either way.
/// </summary>
internal sealed class Pkcs11Source(Pkcs11ProviderOptions options) : IRootKeySource
{
    public string Description => $"PKCS#11 token \"{options.TokenLabel}\"";

    public bool OpeningChecksConfiguration => true;

    public IRootKeyProvider Open()
    {
        try
        {
            return Pkcs11RootKeyProvider.Open(options);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(options.Pin);
        }
    }
}
