using System.Text.Json.Nodes;
using KmsPlugin.Core.Errors;
using static KmsPlugin.Core.Tests.Keystore.KeystoreTestData;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Core.Tests.Keystore;

/// <summary>Every part of the file is authenticated: any change reads as a wrong passphrase or a bad file, never a crash.</summary>
public sealed class KeystoreTamperTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _path;

    public KeystoreTamperTests()
    {
        _path = _temp.File("ks.json");
        using var keystore = KeystoreFile.Create(_path, Passphrase, Options());
        keystore.AddKey();
    }

    private string Modified => $"keystore \"{_path}\": wrong passphrase or the file was modified";

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Untouched_file_loads()
    {
        Rewrite(_ => { });
        using var keystore = KeystoreFile.Load(_path, Passphrase, Options());
        Assert.Equal(2, keystore.ListKeys().Count);
    }

    [Theory]
    [InlineData("nonce", Position.First)]
    [InlineData("nonce", Position.Middle)]
    [InlineData("ciphertext", Position.First)]
    [InlineData("ciphertext", Position.Middle)]
    [InlineData("ciphertext", Position.Tag)]
    public void Flipped_base64_character_is_detected(string field, Position position)
    {
        Rewrite(root => root[field] = Flip(root[field]!.GetValue<string>(), position));
        AssertRefused(Modified);
    }

    [Theory]
    [InlineData(Position.First)]
    [InlineData(Position.Middle)]
    public void Flipped_salt_character_is_detected(Position position)
    {
        Rewrite(root => root["kdf"]!["salt"] = Flip(root["kdf"]!["salt"]!.GetValue<string>(), position));
        AssertRefused(Modified);
    }

    [Theory]
    [InlineData("iterations", 2)]
    [InlineData("memoryKiB", 72)]
    [InlineData("parallelism", 2)]
    public void Changed_kdf_parameter_is_detected(string parameter, int value)
    {
        Rewrite(root => root["kdf"]![parameter] = value);
        AssertRefused(Modified);
    }

    [Fact]
    public void Absurd_kdf_cost_is_refused_before_deriving()
    {
        Rewrite(root => root["kdf"]!["memoryKiB"] = int.MaxValue);
        AssertRefused("is outside");
    }

    /// <summary>The old caps (4 GiB, 64 passes) let a planted header make every reload take minutes.</summary>
    [Theory]
    [InlineData("iterations", 64)]
    [InlineData("iterations", 13)]
    [InlineData("memoryKiB", 4 * 1024 * 1024)]
    [InlineData("memoryKiB", 256 * 1024 + 1)]
    [InlineData("parallelism", 16)]
    public void Kdf_cost_beyond_what_init_writes_plus_a_margin_is_refused_before_deriving(string parameter, int value)
    {
        Rewrite(root => root["kdf"]![parameter] = value);
        var error = Assert.Throws<KmsException>(() => KeystoreFile.Load(_path, Passphrase, Options()));
        Assert.Equal(
            $"keystore \"{_path}\": not usable: argon2id {(parameter == "memoryKiB" ? "memory" : parameter)} {value}" +
            (parameter == "memoryKiB" ? " KiB is outside 8..262144 KiB" : parameter == "iterations" ? " is outside 1..12" : " is outside 1..4") +
            " (`keystore init` writes memory 65536 KiB, iterations 3, parallelism 1); refusing to derive",
            error.Message);
    }

    [Fact]
    public void Short_salt_is_refused()
    {
        Rewrite(root => root["kdf"]!["salt"] = Convert.ToBase64String(new byte[8]));
        AssertRefused("salt is shorter than 16 bytes");
    }

    [Fact]
    public void Other_version_is_refused()
    {
        Rewrite(root => root["version"] = 2);
        AssertRefused("version 2 is not supported");
    }

    [Fact]
    public void Other_format_is_refused()
    {
        Rewrite(root => root["format"] = "something-else");
        AssertRefused("not a valid keystore file");
    }

    [Fact]
    public void Unexpected_field_is_refused()
    {
        Rewrite(root => root["note"] = "hello");
        AssertRefused("unexpected field \"note\"");
    }

    [Fact]
    public void Invalid_base64_is_refused()
    {
        Rewrite(root => root["ciphertext"] = "%%%%");
        AssertRefused("\"ciphertext\" is not base64");
    }

    [Fact]
    public void Truncated_ciphertext_is_detected()
    {
        Rewrite(root =>
        {
            var bytes = Convert.FromBase64String(root["ciphertext"]!.GetValue<string>());
            root["ciphertext"] = Convert.ToBase64String(bytes[..^1]);
        });
        AssertRefused(Modified);
    }

    /// <summary>Found by the keystore property test: JsonDocument checks UTF-8 only when a string is read.</summary>
    [Theory]
    [InlineData("\"format\"", "\"fo\xe5\x8e\"")]
    [InlineData("\"kms-plugin-keystore\"", "\"kms-plugin-\xff\"")]
    [InlineData("\"argon2id\"", "\"argon2\xc3\"")]
    public void Invalid_utf8_in_a_json_string_is_refused(string original, string replacement)
    {
        var bytes = File.ReadAllBytes(_path);
        var text = System.Text.Encoding.Latin1.GetString(bytes);
        Assert.Contains(original, text);
        File.WriteAllBytes(_path, System.Text.Encoding.Latin1.GetBytes(text.Replace(original, replacement, StringComparison.Ordinal)));
        AssertRefused("not a valid keystore file: a JSON string is not valid UTF-8");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    public void Truncated_file_is_refused(int keep)
    {
        var bytes = File.ReadAllBytes(_path);
        File.WriteAllBytes(_path, bytes[..keep]);
        AssertRefused("not a valid keystore file");
    }

    public enum Position
    {
        First,
        Middle,
        Tag,
    }

    private void AssertRefused(string messagePart)
    {
        var error = Assert.Throws<KmsException>(() => KeystoreFile.Load(_path, Passphrase, Options()));
        Assert.Equal(KmsErrorKind.ProviderUnavailable, error.Kind);
        Assert.StartsWith($"keystore \"{_path}\": ", error.Message);
        Assert.Contains(messagePart, error.Message);
    }

    private void Rewrite(Action<JsonObject> change)
    {
        var root = JsonNode.Parse(File.ReadAllText(_path))!.AsObject();
        change(root);

        // Writing into the existing file keeps its 0600 mode.
        File.WriteAllText(_path, root.ToJsonString());
    }

    /// <summary>
    /// Replaces one base64 character with another. Positions are the first character of a 4-character
    /// group, whose 6 bits all land in the decoded bytes (unlike the last one before padding).
    /// </summary>
    private static string Flip(string base64, Position position)
    {
        var groups = base64.Length / 4;
        var index = position switch
        {
            Position.First => 0,
            Position.Middle => groups / 2 * 4,
            _ => (groups - 2) * 4,
        };
        var chars = base64.ToCharArray();
        chars[index] = chars[index] == 'A' ? 'B' : 'A';
        return new string(chars);
    }
}
