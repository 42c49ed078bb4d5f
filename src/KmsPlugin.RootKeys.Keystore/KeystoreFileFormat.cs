using System.Text.Json;
using KmsPlugin.Core.Crypto;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>
/// The keystore file: JSON with the header in clear and the key ring sealed by AES-256-GCM under the
/// Argon2id-derived key, header as AAD.
/// <code>
/// { "format": "kms-plugin-keystore", "version": 1,
///   "kdf": { "algorithm": "argon2id", "version": 19, "memoryKiB": 65536, "iterations": 3, "parallelism": 1, "salt": "&lt;base64&gt;" },
///   "nonce": "&lt;base64, 12 bytes&gt;", "ciphertext": "&lt;base64, sealed ring | tag (16)&gt;" }
/// </code>
/// </summary>
internal static class KeystoreFileFormat
{
    public const int MaxFileSize = 1024 * 1024;

    public static byte[] Write(KeystoreHeader header, ReadOnlySpan<byte> sealedRing)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("format", KeystoreHeader.FormatName);
            json.WriteNumber("version", KeystoreHeader.CurrentVersion);
            json.WriteStartObject("kdf");
            json.WriteString("algorithm", KeystoreKdfParameters.Algorithm);
            json.WriteNumber("version", KeystoreKdfParameters.Argon2Version);
            json.WriteNumber("memoryKiB", header.Kdf.MemoryKiB);
            json.WriteNumber("iterations", header.Kdf.Iterations);
            json.WriteNumber("parallelism", header.Kdf.Parallelism);
            json.WriteBase64String("salt", header.Salt);
            json.WriteEndObject();
            json.WriteBase64String("nonce", sealedRing[..AesGcmSealer.NonceSize]);
            json.WriteBase64String("ciphertext", sealedRing[AesGcmSealer.NonceSize..]);
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Parses the file; throws <see cref="FormatException"/> with a reason that names no secret.</summary>
    public static (KeystoreHeader Header, byte[] SealedRing) Parse(ReadOnlySpan<byte> file)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(file.ToArray(), new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (JsonException e)
        {
            throw new FormatException($"not JSON ({e.Message})", e);
        }

        using (document)
        {
            try
            {
                return ParseDocument(document);
            }
            catch (InvalidOperationException e)
            {
                // JsonDocument checks UTF-8 only when a string is read: a name or value with bad bytes lands here.
                throw new FormatException("a JSON string is not valid UTF-8", e);
            }
        }
    }

    private static (KeystoreHeader Header, byte[] SealedRing) ParseDocument(JsonDocument document)
    {
        var root = Object(document.RootElement, "the file", "format", "version", "kdf", "nonce", "ciphertext");
        if (String(root, "format") != KeystoreHeader.FormatName)
        {
            throw new FormatException($"\"format\" is not \"{KeystoreHeader.FormatName}\"");
        }

        var version = Int(root, "version");
        if (version != KeystoreHeader.CurrentVersion)
        {
            throw new FormatException($"version {version} is not supported (this build reads version {KeystoreHeader.CurrentVersion})");
        }

        var kdf = Object(root.GetProperty("kdf"), "\"kdf\"", "algorithm", "version", "memoryKiB", "iterations", "parallelism", "salt");
        if (String(kdf, "algorithm") != KeystoreKdfParameters.Algorithm)
        {
            throw new FormatException($"kdf algorithm is not \"{KeystoreKdfParameters.Algorithm}\"");
        }

        if (Int(kdf, "version") != KeystoreKdfParameters.Argon2Version)
        {
            throw new FormatException($"argon2id version is not {KeystoreKdfParameters.Argon2Version}");
        }

        var parameters = new KeystoreKdfParameters(Int(kdf, "memoryKiB"), Int(kdf, "iterations"), Int(kdf, "parallelism"));
        var salt = Base64(kdf, "salt");
        if (salt.Length < KeystoreKdfParameters.SaltSize)
        {
            throw new FormatException($"salt is shorter than {KeystoreKdfParameters.SaltSize} bytes");
        }

        var nonce = Base64(root, "nonce");
        if (nonce.Length != AesGcmSealer.NonceSize)
        {
            throw new FormatException($"nonce is not {AesGcmSealer.NonceSize} bytes");
        }

        var ciphertext = Base64(root, "ciphertext");
        if (ciphertext.Length < AesGcmSealer.TagSize)
        {
            throw new FormatException("ciphertext is truncated");
        }

        return (new KeystoreHeader(parameters, salt), [.. nonce, .. ciphertext]);
    }

    private static JsonElement Object(JsonElement element, string what, params string[] expected)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{what} is not a JSON object");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!expected.Contains(property.Name, StringComparer.Ordinal))
            {
                throw new FormatException($"unexpected field \"{property.Name}\" in {what}");
            }

            if (!seen.Add(property.Name))
            {
                throw new FormatException($"field \"{property.Name}\" appears twice in {what}");
            }
        }

        var missing = expected.FirstOrDefault(name => !seen.Contains(name));
        return missing is null ? element : throw new FormatException($"field \"{missing}\" is missing in {what}");
    }

    private static string String(JsonElement parent, string name)
    {
        var value = parent.GetProperty(name);
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new FormatException($"\"{name}\" is not a string");
    }

    private static int Int(JsonElement parent, string name)
    {
        var value = parent.GetProperty(name);
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw new FormatException($"\"{name}\" is not a 32-bit integer");
    }

    private static byte[] Base64(JsonElement parent, string name)
    {
        var value = parent.GetProperty(name);
        return value.ValueKind == JsonValueKind.String && value.TryGetBytesFromBase64(out var bytes)
            ? bytes
            : throw new FormatException($"\"{name}\" is not base64");
    }
}
