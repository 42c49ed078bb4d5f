namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// The configured root keys; swapped whole by <see cref="Pkcs11RootKeyProvider.Reload"/>. Key objects
/// are kept per label across swaps; <paramref name="Version"/> is one more than the set it replaced.
/// </summary>
internal sealed record Pkcs11KeySet(Pkcs11RootKey PrimaryKey, IReadOnlyDictionary<string, Pkcs11RootKey> ById, long Version)
{
    public static Pkcs11KeySet Build(string primaryLabel, IReadOnlyList<string> decryptLabels, Pkcs11SessionPool pool, Pkcs11KeySet? previous)
    {
        var byId = new Dictionary<string, Pkcs11RootKey>(StringComparer.Ordinal);
        foreach (var label in decryptLabels.Prepend(primaryLabel).Distinct(StringComparer.Ordinal))
        {
            var id = Pkcs11KeyLabel.ToKeyId(label);
            byId[id] = previous?.ById.GetValueOrDefault(id) ?? new Pkcs11RootKey(label, pool);
        }

        // Insertion order (primary first, then decrypt-only keys as configured) is the listing order.
        return new Pkcs11KeySet(byId[Pkcs11KeyLabel.ToKeyId(primaryLabel)], byId, (previous?.Version ?? 0) + 1);
    }
}
