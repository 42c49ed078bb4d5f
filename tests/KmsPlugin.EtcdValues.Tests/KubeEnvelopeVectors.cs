using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace KmsPlugin.EtcdValues.Tests;

/// <summary>The vectors of ../shared/testdata/kube-envelope/manifest.json; every test is driven from it.</summary>
internal static class KubeEnvelopeVectors
{
    private static readonly Lazy<JsonElement[]> All = new(Load);

    public static JsonElement Vector(string id) => All.Value.Single(v => v.GetProperty("id").GetString() == id);

    public static TheoryData<string> IdsOfFormat(params string[] formats) =>
        new(All.Value.Where(v => formats.Contains(v.GetProperty("format").GetString())).Select(v => v.GetProperty("id").GetString()!));

    /// <summary>The vector's bytes: its file, checked against file_len and file_sha256, or its inline data_hex.</summary>
    public static byte[] Data(JsonElement vector)
    {
        if (vector.GetProperty("file").ValueKind == JsonValueKind.Null)
        {
            return Hex(vector, "data_hex");
        }

        var bytes = File.ReadAllBytes(RepositoryPaths.SharedTestData("kube-envelope", vector.GetProperty("file").GetString()!));
        Assert.Equal(vector.GetProperty("file_len").GetInt32(), bytes.Length);
        Assert.Equal(vector.GetProperty("file_sha256").GetString(), Sha256Hex(bytes));
        return bytes;
    }

    public static byte[] Hex(JsonElement element, string property) => Convert.FromHexString(element.GetProperty(property).GetString()!);

    public static byte[] Ascii(JsonElement element, string property) => Encoding.ASCII.GetBytes(element.GetProperty(property).GetString()!);

    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>What the upstream base64 mock plugin's Decrypt returns.</summary>
    public static byte[] MockDecrypt(ReadOnlySpan<byte> ciphertext) => Convert.FromBase64String(Encoding.ASCII.GetString(ciphertext));

    public static Dictionary<string, byte[]> Annotations(JsonElement element) =>
        element.EnumerateObject().ToDictionary(p => p.Name, p => Encoding.UTF8.GetBytes(p.Value.GetString()!));

    private static JsonElement[] Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(RepositoryPaths.SharedTestData("kube-envelope", "manifest.json")));
        var vectors = document.RootElement.GetProperty("vectors").EnumerateArray().Select(v => v.Clone()).ToArray();
        Assert.NotEmpty(vectors);
        return vectors;
    }
}
