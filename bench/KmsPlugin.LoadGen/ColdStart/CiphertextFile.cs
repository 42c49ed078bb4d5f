using System.Text;
using Google.Protobuf;

namespace KmsPlugin.LoadGen.ColdStart;

/// <summary>
/// The ciphertexts the encrypt phase made, for the decrypt phase after the server restarts:
/// magic, API, the synthetic-key seed, then each ciphertext with its key_id and annotations.
/// </summary>
internal static class CiphertextFile
{
    private static readonly byte[] Magic = "KMSLGCS1"u8.ToArray();

    public static void Write(string path, string api, SyntheticKeys keys, IReadOnlyList<StoredCiphertext> items)
    {
        using var writer = new BinaryWriter(File.Create(path), Encoding.UTF8);
        writer.Write(Magic);
        writer.Write(api);
        writer.Write(keys.Seed.Length);
        writer.Write(keys.Seed);
        writer.Write(items.Count);
        foreach (var item in items)
        {
            WriteBytes(writer, item.Ciphertext.Span);
            writer.Write(item.KeyId);
            writer.Write(item.Annotations.Count);
            foreach (var (name, value) in item.Annotations)
            {
                writer.Write(name);
                WriteBytes(writer, value.Span);
            }
        }
    }

    public static (string Api, SyntheticKeys Keys, StoredCiphertext[] Items) Read(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path} is not a kms-loadgen ciphertext file");
        }

        string api = reader.ReadString();
        var keys = new SyntheticKeys(reader.ReadBytes(reader.ReadInt32()));
        var items = new StoredCiphertext[reader.ReadInt32()];
        for (int i = 0; i < items.Length; i++)
        {
            var ciphertext = ByteString.CopyFrom(reader.ReadBytes(reader.ReadInt32()));
            string keyId = reader.ReadString();
            var annotations = new Dictionary<string, ByteString>();
            for (int n = reader.ReadInt32(); n > 0; n--)
            {
                annotations[reader.ReadString()] = ByteString.CopyFrom(reader.ReadBytes(reader.ReadInt32()));
            }

            items[i] = new StoredCiphertext(ciphertext, keyId, annotations);
        }

        return (api, keys, items);
    }

    private static void WriteBytes(BinaryWriter writer, ReadOnlySpan<byte> bytes)
    {
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }
}
