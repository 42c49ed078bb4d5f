using System.Buffers;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// Root key labels (<c>CKA_LABEL</c>) and the root key ids derived from them. The id written into
/// every ciphertext is <c>p11-&lt;label&gt;</c>, so labels are restricted to 1–200 characters of
/// <c>[A-Za-z0-9._-]</c>: ASCII, safe in logs and within the 255-byte id limit.
/// </summary>
internal static class Pkcs11KeyLabel
{
    public const string IdPrefix = "p11-";
    public const int MaxLength = 200;

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

    public static bool IsValid(string? label) =>
        label is { Length: > 0 and <= MaxLength } && !label.AsSpan().ContainsAnyExcept(Allowed);

    public static string Describe(string? label) =>
        $"key label \"{label}\" is not valid: use 1 to {MaxLength} characters of A-Z a-z 0-9 . _ -";

    public static string ToKeyId(string label) => IdPrefix + label;

    public static bool TryFromKeyId(string keyId, out string label)
    {
        label = keyId.StartsWith(IdPrefix, StringComparison.Ordinal) ? keyId[IdPrefix.Length..] : "";
        return IsValid(label);
    }
}
