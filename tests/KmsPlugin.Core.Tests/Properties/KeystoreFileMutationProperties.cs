using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Tests.Shared.Properties;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Core.Tests.Properties;

/// <summary>
/// Mutated keystore files through <see cref="KeystoreFile.Load"/>'s parse-and-open half
/// (<see cref="KeystoreFile.FromContent"/>, so 100,000 cases need no disk): each is refused with the
/// documented <see cref="KmsException"/> or, if only its white space changed, loads the same content. Argon2id runs at its smallest setting; a
/// mutant whose header asks for more is checked by the parser alone, since deriving at up to 4 GiB
/// per case is the KDF's cost, not the parser's.
/// </summary>
public sealed class KeystoreFileMutationProperties : IDisposable
{
    private const int Cases = 100_000;
    private static readonly byte[] Passphrase = "property passphrase"u8.ToArray();
    private static readonly KeystoreOptions Options = new() { Kdf = new KeystoreKdfParameters(8, 1, 1), AllowWeakKdfForTests = true };

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Mutated_keystore_files_are_refused_with_the_documented_error()
    {
        var valid = new[] { WriteKeystore("a.json", extraKeys: 0), WriteKeystore("b.json", extraKeys: 2) };
        var target = _temp.File("mutant.json");
        var parserOnly = 0;
        var equivalent = 0;

        FixedSeedProperty.Check(ByteMutations.Of(valid), mutant =>
        {
            if (AsksForCostlyKdf(mutant.Bytes))
            {
                parserOnly++;
                return;
            }

            try
            {
                KeystoreFile.FromContent(target, mutant.Bytes, Passphrase, Options).Dispose();
            }
            catch (KmsException error)
            {
                Assert.Equal(KmsErrorKind.ProviderUnavailable, error.Kind);
                Assert.StartsWith($"keystore \"{target}\": ", error.Message);
                return;
            }

            // Only a change JSON ignores (white space) may load: the same header and sealed ring as a valid file.
            Assert.Contains(valid, v => SameContent(v, mutant.Bytes));
            equivalent++;
        }, Cases, m => m.ToString());

        Assert.True(parserOnly < Cases / 100, $"{parserOnly} mutants skipped the KDF");
        Assert.True(equivalent < Cases / 10, $"{equivalent} mutants were equivalent files");
        using var loaded = KeystoreFile.FromContent(target, valid[1], Passphrase, Options);
        Assert.Equal(3, loaded.ListKeys().Count);
    }

    private static bool SameContent(byte[] a, byte[] b)
    {
        var (headerA, ringA) = KeystoreFileFormat.Parse(a);
        var (headerB, ringB) = KeystoreFileFormat.Parse(b);
        return headerA.SameKdfInputs(headerB) && ringA.AsSpan().SequenceEqual(ringB);
    }

    private static bool AsksForCostlyKdf(byte[] file)
    {
        try
        {
            var kdf = KeystoreFileFormat.Parse(file).Header.Kdf;
            return kdf.MemoryKiB > 64 || kdf.Iterations > 2;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private byte[] WriteKeystore(string name, int extraKeys)
    {
        var path = _temp.File(name);
        using (var keystore = KeystoreFile.Create(path, Passphrase, Options))
        {
            for (var i = 0; i < extraKeys; i++)
            {
                keystore.AddKey();
            }
        }

        return File.ReadAllBytes(path);
    }
}
