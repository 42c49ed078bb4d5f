using System.Diagnostics.CodeAnalysis;

namespace KmsPlugin.Server.Cli;

/// <summary>
/// Whether this build can use PKCS#11 tokens. The NativeAOT build turns it off: Pkcs11Interop 5.3
/// marshals its structures and function pointers through <c>System.Type</c> at run time, which the
/// AOT compiler cannot see (scripts/publish-aot.sh says more). Off, the compiler drops every
/// PKCS#11 code path, so none of it is in the executable.
/// </summary>
internal static class Pkcs11Support
{
    public const string Switch = "KmsPlugin.Pkcs11.IsSupported";

    public const string Unavailable = "this kms-plugin is the NativeAOT build, which has no PKCS#11 support; use the JIT build (dotnet publish) for --provider pkcs11 and the pkcs11 commands";

    [FeatureSwitchDefinition(Switch)]
    public static bool IsSupported => !AppContext.TryGetSwitch(Switch, out var enabled) || enabled;
}
