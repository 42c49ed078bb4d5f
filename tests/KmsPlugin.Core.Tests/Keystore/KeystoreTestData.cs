using KmsPlugin.RootKeys.Keystore;
using Microsoft.Extensions.Time.Testing;

namespace KmsPlugin.Core.Tests.Keystore;

internal static class KeystoreTestData
{
    public static readonly byte[] Passphrase = "correct horse battery staple"u8.ToArray();

    /// <summary>Argon2id far below the production floor, so tests stay fast.</summary>
    public static readonly KeystoreKdfParameters CheapKdf = new(MemoryKiB: 64, Iterations: 1, Parallelism: 1);

    public static KeystoreOptions Options(TimeProvider? time = null, Action<string>? afterTempFileWritten = null, TimeSpan? lockTimeout = null) => new()
    {
        Kdf = CheapKdf,
        AllowWeakKdfForTests = true,
        TimeProvider = time ?? new FakeTimeProvider(new DateTimeOffset(2025, 3, 14, 15, 9, 26, TimeSpan.Zero)),
        AfterTempFileWritten = afterTempFileWritten,
        LockTimeout = lockTimeout ?? TimeSpan.FromSeconds(30),
    };
}
