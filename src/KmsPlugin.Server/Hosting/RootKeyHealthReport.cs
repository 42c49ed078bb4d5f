namespace KmsPlugin.Server.Hosting;

/// <summary>The last root-key round trip: what Status and the health endpoints answer from.</summary>
/// <param name="Detail">"ok", or a short reason an operator can act on. Never key material, but it
/// may name key ids and paths: only the log, v2 Status and `status` show it.</param>
/// <param name="KeyId">The primary's key_id at the time of the check, if one could be read.</param>
internal sealed record RootKeyHealthReport(bool Healthy, string Detail, DateTimeOffset CheckedAt, string? KeyId)
{
    /// <summary>The primary's expiry at the time of the check, if it has one.</summary>
    public DateTimeOffset? PrimaryExpiresAt { get; init; }

    /// <summary>One of the fixed <see cref="HealthReasons"/>: what the health listener may show.</summary>
    public string Reason { get; init; } = HealthReasons.Ok;

    public static RootKeyHealthReport NotYetChecked { get; } = new(false, "root key not checked yet", DateTimeOffset.MinValue, null) { Reason = HealthReasons.NotChecked };
}
