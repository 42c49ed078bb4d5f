namespace KmsPlugin.Server.Hosting;

/// <summary>A reloaded configuration failed its checks; <see cref="Problems"/> lists every reason.</summary>
internal sealed class ReloadRejectedException(IReadOnlyList<string> problems) : Exception(string.Join("; ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
