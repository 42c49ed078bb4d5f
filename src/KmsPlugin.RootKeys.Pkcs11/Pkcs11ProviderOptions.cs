namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>How to reach the root keys (KEKs) on a PKCS#11 token.</summary>
internal sealed record Pkcs11ProviderOptions
{
    public const int DefaultMaxSessions = 8;

    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Path of the vendor's PKCS#11 module, e.g. <c>/usr/lib/softhsm/libsofthsm2.so</c>.</summary>
    public required string ModulePath { get; init; }

    /// <summary>The token, selected by its label.</summary>
    public required string TokenLabel { get; init; }

    /// <summary>Optional: also require this token serial number (when several tokens share a label).</summary>
    public string? TokenSerial { get; init; }

    /// <summary>The user PIN. The provider keeps its own copy; the caller zeroes this array.</summary>
    public required byte[] Pin { get; init; }

    /// <summary><c>CKA_LABEL</c> of the AES key that wraps new data keys.</summary>
    public required string PrimaryKeyLabel { get; init; }

    /// <summary><c>CKA_LABEL</c>s of older root keys that only unwrap.</summary>
    public IReadOnlyList<string> DecryptKeyLabels { get; init; } = [];

    /// <summary>Sessions open at most: one per concurrent HSM call.</summary>
    public int MaxSessions { get; init; } = DefaultMaxSessions;

    /// <summary>Upper bound of every HSM call, so kube-apiserver's 3 s deadline is never eaten by a stuck token.</summary>
    public TimeSpan CallTimeout { get; init; } = DefaultCallTimeout;

    /// <summary>Test seam: runs on the call's thread right before each PKCS#11 operation (used to simulate a hang).</summary>
    internal Action? BeforeCall { get; init; }

    /// <summary>
    /// Test seam at the session layer: called with the PKCS#11 function name (e.g. "C_Decrypt") right
    /// before a key runs it; a return value other than CKR_OK is raised as that function's failure.
    /// </summary>
    internal Func<string, Net.Pkcs11Interop.Common.CKR>? InjectResult { get; init; }

    /// <summary>Every configuration problem that needs no token, in one list.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrEmpty(ModulePath))
        {
            problems.Add("no PKCS#11 module path");
        }
        else if (!File.Exists(ModulePath))
        {
            problems.Add($"PKCS#11 module \"{ModulePath}\" does not exist");
        }

        if (string.IsNullOrWhiteSpace(TokenLabel) || TokenLabel.Length > 32)
        {
            problems.Add("the PKCS#11 token label must be 1 to 32 characters");
        }

        foreach (var label in DecryptKeyLabels.Prepend(PrimaryKeyLabel))
        {
            if (!Pkcs11KeyLabel.IsValid(label))
            {
                problems.Add(Pkcs11KeyLabel.Describe(label));
            }
        }

        if (DecryptKeyLabels.Contains(PrimaryKeyLabel, StringComparer.Ordinal))
        {
            problems.Add($"key label \"{PrimaryKeyLabel}\" is both the primary and a decrypt-only key");
        }

        if (MaxSessions is < 1 or > 1024)
        {
            problems.Add("PKCS#11 max sessions must be between 1 and 1024");
        }

        if (CallTimeout <= TimeSpan.Zero)
        {
            problems.Add("PKCS#11 call timeout must be positive");
        }

        return problems;
    }
}
