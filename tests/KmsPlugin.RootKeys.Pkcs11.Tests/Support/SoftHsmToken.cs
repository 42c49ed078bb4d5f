using System.Text;

namespace KmsPlugin.RootKeys.Pkcs11.Tests.Support;

/// <summary>A SoftHSM token made for one test: label, user PIN and its directory on disk.</summary>
internal sealed record SoftHsmToken(string Label, string Pin, string Directory)
{
    public byte[] PinBytes => Encoding.UTF8.GetBytes(Pin);

    public Pkcs11ProviderOptions Options(string primary, params string[] decryptOnly) => new()
    {
        ModulePath = SoftHsm.ModulePath,
        TokenLabel = Label,
        Pin = PinBytes,
        PrimaryKeyLabel = primary,
        DecryptKeyLabels = decryptOnly,
    };

    public Pkcs11TokenAdmin Admin() => Pkcs11TokenAdmin.Open(SoftHsm.ModulePath, Label, null, PinBytes);

    /// <summary>Generates AES root keys on the token (the first one primary, when asked).</summary>
    public SoftHsmToken WithKeys(bool firstIsPrimary, params string[] labels)
    {
        using var admin = Admin();
        for (var i = 0; i < labels.Length; i++)
        {
            admin.GenerateKey(labels[i], primary: firstIsPrimary && i == 0);
        }

        return this;
    }
}
