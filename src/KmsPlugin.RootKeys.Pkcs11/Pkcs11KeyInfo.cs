namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>An AES key on a token as `pkcs11 list` shows it: never its value.</summary>
internal sealed record Pkcs11KeyInfo(string Label, string IdHex, bool Encrypt, bool Decrypt, bool Sensitive, bool Extractable)
{
    /// <summary>True when the plugin can use the key as a primary (decrypt-only keys need only <see cref="Decrypt"/>).</summary>
    public bool UsableAsPrimary => Encrypt && Decrypt && Pkcs11KeyLabel.IsValid(Label);
}
