namespace KmsPlugin.Core.Envelope;

public sealed record EnvelopeOptions
{
    /// <summary>Unwrapped DEKs kept in memory; kube-apiserver's own v1 cache defaults to 1000.</summary>
    public int DataKeyCacheCapacity { get; init; } = 1000;

    public DataEncryptionKeyRotationPolicy Rotation { get; init; } = DataEncryptionKeyRotationPolicy.Default;

    /// <summary>
    /// Upper bound of one root-key wrap or unwrap. Well below kube-apiserver's usual 3 s timeout so a
    /// stalled provider gives callers Unavailable (which they retry) instead of a hung call, and
    /// an unwrap that other callers share never holds them past it.
    /// </summary>
    public TimeSpan RootKeyCallTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Rotation.Validate());
        if (DataKeyCacheCapacity < 1)
        {
            problems.Add($"data key cache capacity must be at least 1 (got {DataKeyCacheCapacity})");
        }

        if (RootKeyCallTimeout <= TimeSpan.Zero)
        {
            problems.Add($"root key call timeout must be positive (got {RootKeyCallTimeout})");
        }

        return problems;
    }
}
