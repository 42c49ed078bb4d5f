using System.Reflection;
using System.Runtime.InteropServices;
using KmsPlugin.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace KmsPlugin.Pkcs11;

/// <summary>
/// Loads a PKCS#11 module once per process. C_Initialize may run only once per module and
/// C_Finalize would pull the rug from every other user in the process, so loaded modules stay
/// loaded until exit and are shared by every provider and CLI verb.
/// </summary>
internal static class Pkcs11Module
{
    private static readonly object Gate = new();
    private static readonly Dictionary<string, IPkcs11Library> Loaded = new(StringComparer.Ordinal);
    private static bool resolverInstalled;

    public static Pkcs11InteropFactories Factories { get; } = new();

    /// <summary>The loaded module; <see cref="KmsErrorKind.ProviderUnavailable"/> when it cannot be loaded.</summary>
    public static IPkcs11Library Load(string modulePath)
    {
        var path = Path.GetFullPath(modulePath);
        lock (Gate)
        {
            if (Loaded.TryGetValue(path, out var library))
            {
                return library;
            }

            if (!File.Exists(path))
            {
                throw new KmsException(KmsErrorKind.ProviderUnavailable, $"PKCS#11 module \"{path}\" does not exist");
            }

            InstallResolver();
            try
            {
                library = Factories.Pkcs11LibraryFactory.LoadPkcs11Library(Factories, path, AppType.MultiThreaded);
            }
            catch (Pkcs11Exception ex)
            {
                throw new KmsException(KmsErrorKind.ProviderUnavailable, $"PKCS#11 module \"{path}\": C_Initialize failed with {ex.RV}", ex);
            }
            catch (Exception ex) when (ex is UnmanagedException or DllNotFoundException or BadImageFormatException or EntryPointNotFoundException)
            {
                throw new KmsException(KmsErrorKind.ProviderUnavailable, $"PKCS#11 module \"{path}\" could not be loaded: {ex.Message}", ex);
            }

            Loaded.Add(path, library);
            return library;
        }
    }

    // Pkcs11Interop P/Invokes dlopen from "libdl", which Debian 12 ships only as libdl.so.2.
    private static void InstallResolver()
    {
        if (resolverInstalled)
        {
            return;
        }

        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // Someone in this process installed one already; theirs stays in charge.
        }

        resolverInstalled = true;
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name == "libdl" && NativeLibrary.TryLoad("libdl.so.2", out var handle))
        {
            return handle;
        }

        return IntPtr.Zero;
    }
}
