namespace KmsPlugin.Core.Envelope;

public sealed record EnvelopeOptions
{
    /// <summary>Unwrapped DEKs kept in memory; kube-apiserver's own v1 cache defaults to 1000.</summary>
    public int DataKeyCacheCapacity { get; init; } = 1000;

    public DataEncryptionKeyRotationPolicy Rotation { get; init; } = DataEncryptionKeyRotationPolicy.Default;

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Rotation.Validate());
        if (DataKeyCacheCapacity < 1)
        {
            problems.Add($"data key cache capacity must be at least 1 (got {DataKeyCacheCapacity})");
        }

        return problems;
    }
}
