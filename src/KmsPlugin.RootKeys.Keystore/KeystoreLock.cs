using System.Diagnostics;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>
/// Serialises writers of one keystore: an exclusive lock on <c>&lt;keystore&gt;.lock</c>. .NET implements
/// FileShare.None on Unix with flock(2), so the lock is released when the holder exits or crashes.
/// The lock file is never deleted: deleting it would let two writers lock two different files.
/// Setting DOTNET_SYSTEM_IO_DISABLEFILELOCKING turns this protection off.
/// </summary>
internal sealed class KeystoreLock : IDisposable
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(25);

    private readonly FileStream _stream;

    private KeystoreLock(FileStream stream) => _stream = stream;

    public static string LockPathFor(string keystorePath) => keystorePath + ".lock";

    public static KeystoreLock Acquire(string keystorePath, string displayPath, TimeSpan timeout)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the keystore needs Unix file modes");
        }

        var lockPath = LockPathFor(keystorePath);
        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            UnixCreateMode = AtomicFile.OwnerOnly,
        };

        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new KeystoreLock(new FileStream(lockPath, options));
            }
            catch (IOException e) when (IsHeldByAnother(e))
            {
                if (waited.Elapsed >= timeout)
                {
                    throw new KmsException(KmsErrorKind.ProviderUnavailable,
                        $"keystore \"{displayPath}\" is being changed by another process (lock \"{lockPath}\" held for over {timeout.TotalSeconds:0} s)", e);
                }

                Thread.Sleep(RetryInterval);
            }
        }
    }

    public void Dispose() => _stream.Dispose();

    // flock's EWOULDBLOCK surfaces as a plain IOException whose HResult is the errno (11 on Linux,
    // 35 on macOS); anything else (missing directory, read-only file system) is a real failure.
    private static bool IsHeldByAnother(IOException e) =>
        e.GetType() == typeof(IOException) && e.HResult is 11 or 35;
}
