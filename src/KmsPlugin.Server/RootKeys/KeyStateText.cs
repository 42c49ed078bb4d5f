using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.Server.RootKeys;

/// <summary>A root key's state as the CLI prints it and the <c>state</c> metric label carries it.</summary>
internal static class KeyStateText
{
    public static string Of(KeyState state) => state switch
    {
        KeyState.Primary => "primary",
        KeyState.DecryptOnly => "decrypt-only",
        _ => "disabled",
    };
}
