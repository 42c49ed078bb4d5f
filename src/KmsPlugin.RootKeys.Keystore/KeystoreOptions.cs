namespace KmsPlugin.RootKeys.Keystore;

/// <summary>How a <see cref="KeystoreFile"/> is created and changed. The defaults are the production settings.</summary>
internal sealed class KeystoreOptions
{
    public static KeystoreOptions Default { get; } = new();

    /// <summary>Argon2id cost for <see cref="KeystoreFile.Create"/>; an existing file keeps its own parameters.</summary>
    public KeystoreKdfParameters Kdf { get; init; } = KeystoreKdfParameters.Default;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How long a change waits for another <c>kms-plugin keystore</c> command to finish.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Tests only: accept Argon2id parameters below <see cref="KeystoreKdfParameters.Minimum"/>.</summary>
    internal bool AllowWeakKdfForTests { get; init; }

    /// <summary>Tests only: called with the temp file's path after it is flushed and before it is renamed.</summary>
    internal Action<string>? AfterTempFileWritten { get; init; }
}
