namespace KmsPlugin.Core.RootKeys;

/// <summary>A provider that can list its root keys with their key check values.</summary>
public interface IRootKeyCatalog
{
    /// <summary>
    /// Every root key the provider holds, in ring order. Check values are computed when the ring is
    /// loaded (or the token connected), never per call. Throws <see cref="Errors.KmsException"/>
    /// when the keys cannot be reached.
    /// </summary>
    IReadOnlyList<RootKeyDescription> DescribeKeys();
}
