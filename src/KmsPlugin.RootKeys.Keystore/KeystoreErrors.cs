using System.Globalization;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>The one shape of a keystore failure: the file named, the provider unavailable.</summary>
internal static class KeystoreErrors
{
    public static KmsException Unavailable(string path, string problem, Exception? inner = null) =>
        new(KmsErrorKind.ProviderUnavailable, string.Create(CultureInfo.InvariantCulture, $"keystore \"{path}\": {problem}"), inner);
}
