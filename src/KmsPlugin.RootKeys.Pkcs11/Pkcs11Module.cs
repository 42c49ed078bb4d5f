using System.Reflection;
using System.Runtime.InteropServices;
using KmsPlugin.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using LowLevel = Net.Pkcs11Interop.LowLevelAPI80;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// A PKCS#11 module, loaded once per process. C_Initialize may run only once per module and
/// C_Finalize pulls the rug from every user in the process, so modules stay loaded until exit and
/// are shared by every provider and CLI verb.
/// <para>
/// Many modules (SoftHSM among them) enumerate their tokens only in C_Initialize, so a token that
/// appears later stays invisible. <see cref="TryReinitialize"/> runs C_Finalize + C_Initialize on
/// the same loaded library when no call is in flight: every PKCS#11 call holds
/// <see cref="EnterCall"/> (a shared lock), the re-initialisation holds it exclusively, and every
/// session of the old initialisation then fails as lost, which the session pools recover from.
/// </para>
/// </summary>
internal sealed class Pkcs11Module
{
    private static readonly object Gate = new();
    private static readonly Dictionary<string, Pkcs11Module> Loaded = new(StringComparer.Ordinal);
    private static bool _resolverInstalled;

    private readonly LowLevel.Pkcs11Library _lowLevel;
    private readonly ReaderWriterLockSlim _calls = new(LockRecursionPolicy.SupportsRecursion);
    private int _generation;

    private Pkcs11Module(string path, IPkcs11Library library, LowLevel.Pkcs11Library lowLevel)
    {
        Path = path;
        Library = library;
        _lowLevel = lowLevel;
    }

    public static Pkcs11InteropFactories Factories { get; } = new();

    public string Path { get; }

    public IPkcs11Library Library { get; }

    /// <summary>
    /// Counts re-initialisations. Session and object handles from an older generation are dead, and
    /// their numbers may be handed out again, so they are dropped without being touched.
    /// </summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>The loaded module; <see cref="KmsErrorKind.ProviderUnavailable"/> when it cannot be loaded.</summary>
    public static Pkcs11Module Load(string modulePath)
    {
        var path = System.IO.Path.GetFullPath(modulePath);
        lock (Gate)
        {
            if (Loaded.TryGetValue(path, out var module))
            {
                return module;
            }

            if (!File.Exists(path))
            {
                throw Pkcs11Errors.Configuration(new KmsException(KmsErrorKind.ProviderUnavailable, $"PKCS#11 module \"{path}\" does not exist"));
            }

            if (Platform.NativeULongSize != 8 || Platform.StructPackingSize != 0)
            {
                throw Pkcs11Errors.Configuration(new KmsException(KmsErrorKind.ProviderUnavailable, "PKCS#11 modules are supported on 64-bit Linux only"));
            }

            InstallResolver();
            try
            {
                var library = Factories.Pkcs11LibraryFactory.LoadPkcs11Library(Factories, path, AppType.MultiThreaded);

                // A second handle on the same loaded module (dlopen is reference counted), used only
                // for C_Finalize/C_Initialize; never disposed.
                module = new Pkcs11Module(path, library, new LowLevel.Pkcs11Library(path));
            }
            catch (Pkcs11Exception ex)
            {
                throw Pkcs11Errors.Configuration(new KmsException(KmsErrorKind.ProviderUnavailable, $"PKCS#11 module \"{path}\": C_Initialize failed with {ex.RV}", ex));
            }
            catch (Exception ex) when (ex is UnmanagedException or DllNotFoundException or BadImageFormatException or EntryPointNotFoundException)
            {
                throw Pkcs11Errors.Configuration(new KmsException(KmsErrorKind.ProviderUnavailable, $"PKCS#11 module \"{path}\" could not be loaded: {ex.Message}", ex));
            }

            Loaded.Add(path, module);
            return module;
        }
    }

    /// <summary>Shared hold for one PKCS#11 call; release with <see cref="ExitCall"/> on the same thread.</summary>
    public void EnterCall() => _calls.EnterReadLock();

    public void ExitCall() => _calls.ExitReadLock();

    /// <summary>
    /// Re-initialises the module so that it enumerates its tokens again. Skipped (false) when calls
    /// stay in flight for longer than a moment, e.g. a hung one.
    /// </summary>
    public bool TryReinitialize()
    {
        if (_calls.IsReadLockHeld || !_calls.TryEnterWriteLock(TimeSpan.FromMilliseconds(200)))
        {
            return false;
        }

        try
        {
            Interlocked.Increment(ref _generation);
            _lowLevel.C_Finalize(IntPtr.Zero);
            var rv = _lowLevel.C_Initialize(new LowLevel.CK_C_INITIALIZE_ARGS { Flags = CKF.CKF_OS_LOCKING_OK });
            return rv is CKR.CKR_OK or CKR.CKR_CRYPTOKI_ALREADY_INITIALIZED;
        }
        finally
        {
            _calls.ExitWriteLock();
        }
    }

    // Pkcs11Interop P/Invokes dlopen from "libdl", which Debian 12 ships only as libdl.so.2.
    private static void InstallResolver()
    {
        if (_resolverInstalled)
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

        _resolverInstalled = true;
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
