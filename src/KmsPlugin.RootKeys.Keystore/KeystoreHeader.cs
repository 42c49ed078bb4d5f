using System.Globalization;
using System.Text;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>The clear part of a keystore file. It is authenticated as the AAD of the sealed ring.</summary>
internal sealed class KeystoreHeader
{
    public const string FormatName = "kms-plugin-keystore";
    public const int CurrentVersion = 1;

    public KeystoreHeader(KeystoreKdfParameters kdf, byte[] salt)
    {
        Kdf = kdf;
        Salt = salt;
    }

    public KeystoreKdfParameters Kdf { get; }

    public byte[] Salt { get; }

    /// <summary>
    /// A canonical encoding, rebuilt from the parsed values rather than taken from the file text, so
    /// JSON whitespace does not matter but every value does.
    /// </summary>
    public byte[] ToAssociatedData() => Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"{FormatName}\nversion={CurrentVersion}\nkdf={KeystoreKdfParameters.Algorithm}\nkdf.version={KeystoreKdfParameters.Argon2Version}\n" +
        $"kdf.memoryKiB={Kdf.MemoryKiB}\nkdf.iterations={Kdf.Iterations}\nkdf.parallelism={Kdf.Parallelism}\nkdf.salt={Convert.ToBase64String(Salt)}\n"));

    public bool SameKdfInputs(KeystoreHeader other) => Kdf == other.Kdf && Salt.AsSpan().SequenceEqual(other.Salt);
}
