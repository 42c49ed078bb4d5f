using System.Text;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.Core.Envelope;

/// <summary>
/// The root key a caller says sealed an envelope: KMS v2 sends it as key_id. The engine compares
/// it with the id in the header it parses anyway, before any key is looked up.
/// </summary>
/// <param name="RootKeyId">The root key id taken from <paramref name="KeyId"/>.</param>
/// <param name="KeyId">The key_id as the caller sent it, echoed (made printable) in the error.</param>
internal readonly record struct ExpectedRootKey(string RootKeyId, string KeyId)
{
    public void Check(ReadOnlySpan<byte> sealedUnder)
    {
        if (!Ascii.Equals(sealedUnder, RootKeyId))
        {
            throw new KmsException(
                KmsErrorKind.InvalidCiphertext,
                $"key_id \"{ClientText.Printable(KeyId)}\" does not match root key \"{Encoding.ASCII.GetString(sealedUnder)}\" named in the ciphertext");
        }
    }
}
