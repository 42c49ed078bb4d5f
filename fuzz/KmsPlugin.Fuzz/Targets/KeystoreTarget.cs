using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Keystore;

namespace KmsPlugin.Fuzz.Targets;

/// <summary>
/// Keystore files through Load's parse-and-open half (only <see cref="KmsException"/> escapes; a file
/// asking for a costly KDF is checked by the parser alone), and the same bytes through the sealed key
/// ring's parser, the layer below the KDF that no file mutation reaches (only <see cref="FormatException"/>).
/// </summary>
internal sealed class KeystoreTarget(string workDirectory) : IFuzzTarget
{
    public string Name => "keystore";

    public IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        var path = Path.Combine(workDirectory, "seed-keystore.json");
        File.Delete(path);
        using var keystore = KeystoreFile.Create(path, WorkKeystore.Passphrase, WorkKeystore.Options);
        keystore.AddKey(DateTimeOffset.UtcNow.AddDays(90));
        yield return ("keystore-file", File.ReadAllBytes(path));
        yield return ("key-ring", keystore.WithRing(KeyRingSerializer.Serialize));
    }

    public void Run(byte[] input)
    {
        try
        {
            if (WorkKeystore.IsCheap(KeystoreFileFormat.Parse(input).Header.Kdf))
            {
                KeystoreFile.FromContent("fuzz.json", input, WorkKeystore.Passphrase, WorkKeystore.Options).Dispose();
            }
        }
        catch (FormatException)
        {
        }
        catch (KmsException e) when (e.Kind == KmsErrorKind.ProviderUnavailable)
        {
        }

        try
        {
            KeyRingSerializer.Deserialize(input);
        }
        catch (FormatException)
        {
        }
    }
}
