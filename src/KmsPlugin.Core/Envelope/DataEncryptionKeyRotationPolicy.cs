namespace KmsPlugin.Core.Envelope;

/// <summary>
/// When the plugin DEK must be replaced. Pure: it looks only at the numbers it is given.
/// Random 96-bit nonces stay within NIST SP 800-38D's collision bound for at most 2^32
/// encryptions under one key, so <see cref="MaxUses"/> can never be set above that.
/// </summary>
public sealed record DataEncryptionKeyRotationPolicy
{
    public const long NistRandomNonceLimit = 1L << 32;

    public static DataEncryptionKeyRotationPolicy Default { get; } = new();

    public long MaxUses { get; init; } = 1L << 20;

    public TimeSpan MaxAge { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Every problem with the settings, empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxUses is < 1 or > NistRandomNonceLimit)
        {
            problems.Add($"data key max uses must be between 1 and 2^32 (got {MaxUses})");
        }

        if (MaxAge <= TimeSpan.Zero)
        {
            problems.Add($"data key max age must be positive (got {MaxAge})");
        }

        return problems;
    }

    /// <param name="uses">Encryptions already made with the key, including the one about to be made.</param>
    public bool MustRotate(long uses, TimeSpan age, bool primaryKeyChanged) =>
        primaryKeyChanged || uses > MaxUses || age >= MaxAge;
}
