namespace KmsPlugin.Tests.Shared;

/// <summary>
/// A private (0700) directory under /tmp, removed on dispose. The prefix is short so that socket
/// paths inside it stay under the 107 bytes a unix socket path may have.
/// </summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("kmsp-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
