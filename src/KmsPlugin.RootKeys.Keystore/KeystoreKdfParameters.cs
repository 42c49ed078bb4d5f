using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>Argon2id (version 0x13) cost parameters, stored in the keystore header.</summary>
internal sealed record KeystoreKdfParameters(int MemoryKiB, int Iterations, int Parallelism)
{
    public const string Algorithm = "argon2id";
    public const int Argon2Version = 0x13;
    public const int SaltSize = 16;

    // The header is authenticated only by the key it derives, so these are checked before deriving.
    // `keystore init` writes Default; four times its cost is the margin a hand-made file may use.
    // Anything beyond would let whoever can write the file make every reload slow or exhaust memory.
    public const int MaxMemoryKiB = 256 * 1024;
    public const int MaxIterations = 12;
    public const int MaxParallelism = 4;

    /// <summary>64 MiB, 3 passes, 1 lane.</summary>
    public static KeystoreKdfParameters Default { get; } = new(64 * 1024, 3, 1);

    /// <summary>
    /// The floor outside tests: OWASP's minimum Argon2id configuration (19 MiB, 2 passes, 1 lane).
    /// Each parameter is checked on its own; trading memory for passes below the floor is refused.
    /// </summary>
    public static KeystoreKdfParameters Minimum { get; } = new(19 * 1024, 2, 1);

    public bool IsBelowMinimum =>
        MemoryKiB < Minimum.MemoryKiB || Iterations < Minimum.Iterations || Parallelism < Minimum.Parallelism;

    private static string InitWrites =>
        $" (`keystore init` writes memory {Default.MemoryKiB} KiB, iterations {Default.Iterations}, parallelism {Default.Parallelism}); refusing to derive";

    /// <summary>Null when usable, else why not.</summary>
    public string? Problem(bool allowBelowMinimum)
    {
        if (Parallelism is < 1 or > MaxParallelism)
        {
            return $"argon2id parallelism {Parallelism} is outside 1..{MaxParallelism}{InitWrites}";
        }

        if (Iterations is < 1 or > MaxIterations)
        {
            return $"argon2id iterations {Iterations} is outside 1..{MaxIterations}{InitWrites}";
        }

        if (MemoryKiB < 8 * Parallelism || MemoryKiB > MaxMemoryKiB)
        {
            return $"argon2id memory {MemoryKiB} KiB is outside {8 * Parallelism}..{MaxMemoryKiB} KiB{InitWrites}";
        }

        if (!allowBelowMinimum && IsBelowMinimum)
        {
            return $"argon2id parameters (memory {MemoryKiB} KiB, iterations {Iterations}, parallelism {Parallelism}) are below the minimum " +
                $"(memory {Minimum.MemoryKiB} KiB, iterations {Minimum.Iterations}, parallelism {Minimum.Parallelism})";
        }

        return null;
    }

    /// <summary>Derives a 32-byte key into <paramref name="destination"/>.</summary>
    public void DeriveKey(ReadOnlySpan<byte> passphrase, ReadOnlySpan<byte> salt, Span<byte> destination)
    {
        Derive(passphrase, salt, destination);

        // The derivation's working memory (MemoryKiB, 64 MiB by default) is garbage now. Without an
        // aggressive collection the heap keeps it resident for the life of the plugin (measured:
        // idle RSS with a keystore ~2x that of --dev; scripts/measure-startup.sh).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    private void Derive(ReadOnlySpan<byte> passphrase, ReadOnlySpan<byte> salt, Span<byte> destination)
    {
        var parameters = new Argon2Parameters.Builder(Argon2Parameters.Argon2id)
            .WithVersion(Argon2Version)
            .WithMemoryAsKB(MemoryKiB)
            .WithIterations(Iterations)
            .WithParallelism(Parallelism)
            .WithSalt(salt.ToArray())
            .Build();

        // BouncyCastle wants arrays; these copies are pinned and zeroed as soon as it is done.
        var password = GC.AllocateArray<byte>(passphrase.Length, pinned: true);
        var output = GC.AllocateArray<byte>(destination.Length, pinned: true);
        try
        {
            passphrase.CopyTo(password);
            var generator = new Argon2BytesGenerator();
            generator.Init(parameters);
            generator.GenerateBytes(password, output);
            output.CopyTo(destination);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
            CryptographicOperations.ZeroMemory(output);
            parameters.Clear();
        }
    }
}
