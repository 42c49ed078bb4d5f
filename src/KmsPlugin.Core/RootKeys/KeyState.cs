namespace KmsPlugin.Core.RootKeys;

/// <summary>What a root key (root key) may be used for.</summary>
public enum KeyState
{
    /// <summary>Wraps new DEKs and unwraps old ones. Exactly one per key ring.</summary>
    Primary,

    /// <summary>Unwraps only: an older primary kept until every object has been rewritten.</summary>
    DecryptOnly,

    /// <summary>Kept (ids are never reused, material is never dropped) but refused for every use.</summary>
    Disabled,
}
