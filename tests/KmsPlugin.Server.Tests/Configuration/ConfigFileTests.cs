using KmsPlugin.Server.Configuration;

namespace KmsPlugin.Server.Tests.Configuration;

/// <summary>Reading and checking `serve --config` files, YAML and JSON, in-process.</summary>
public sealed class ConfigFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Yaml_and_json_with_the_same_settings_give_the_same_values()
    {
        var yaml = Write("c.yaml", """
            socket: /run/kms/kms.sock
            socketMode: "0660"
            logLevel: Debug
            dataKeys:
              maxUses: 5000
              maxAge: 1h
            provider: pkcs11
            dev: false
            pkcs11:
              module: /usr/lib/softhsm/libsofthsm2.so
              decryptKeys: [old-1, old-2]
              maxSessions: 4
            """);
        var json = Write("c.json", """
            {
              "socket": "/run/kms/kms.sock", "socketMode": "0660", "logLevel": "Debug",
              "dataKeys": { "maxUses": 5000, "maxAge": "1h" },
              "provider": "pkcs11", "dev": false,
              // comments and trailing commas are allowed
              "pkcs11": { "module": "/usr/lib/softhsm/libsofthsm2.so", "decryptKeys": ["old-1", "old-2"], "maxSessions": 4, },
            }
            """);

        var problems = new List<string>();
        var fromYaml = ConfigFile.Load(yaml, problems).Values;
        var fromJson = ConfigFile.Load(json, problems).Values;

        Assert.Empty(problems);
        Assert.Equal(10, fromYaml.Count);
        Assert.Equal(fromYaml.Keys.Order(), fromJson.Keys.Order());
        foreach (var (key, value) in fromYaml)
        {
            Assert.True(value.SameValueAs(fromJson[key]), $"{key}: {value.Display} vs {fromJson[key].Display}");
        }

        Assert.Equal(["old-1", "old-2"], fromYaml["pkcs11.decryptKeys"].Items);
        Assert.StartsWith($"{yaml}:5: dataKeys.maxUses", fromYaml["dataKeys.maxUses"].Origin);
    }

    [Fact]
    public void Every_problem_in_a_yaml_file_is_reported_with_its_line()
    {
        var path = Write("bad.yaml", """
            socket: /run/kms/kms.sock
            pkcs11:
              tokn: kms
              pin: "1234"
            keystore:
              passphrase: hunter2
            logLevl: Debug
            dataKeys:
              maxUses: [1, 2]
            shutdownGrace:
              seconds: 10
            """);

        var problems = new List<string>();
        ConfigFile.Load(path, problems);

        Assert.Equal(
        [
            $"{path}:3: pkcs11.tokn: unknown setting; did you mean pkcs11.token?",
            $"{path}:4: pkcs11.pin: secrets are never read from the config file; put it in a file readable only by the plugin and set pkcs11.pinFile to that file's path",
            $"{path}:6: keystore.passphrase: secrets are never read from the config file; put it in a file readable only by the plugin and set keystore.passphraseFile to that file's path",
            $"{path}:7: logLevl: unknown setting; did you mean logLevel?",
            $"{path}:9: dataKeys.maxUses: expected a whole number, found a list",
            $"{path}:10: shutdownGrace: expected a duration string such as \"10s\", found a mapping",
        ], problems);
        Assert.DoesNotContain(problems, p => p.Contains("hunter2", StringComparison.Ordinal) || p.Contains("1234", StringComparison.Ordinal));
    }

    [Fact]
    public void Json_types_are_checked()
    {
        var path = Write("types.json", """
            { "dataKeys": { "maxUses": "5" }, "shutdownGrace": 10, "dev": "yes", "pkcs11": { "decryptKeys": "old" }, "keystore": "k.json", "socket-mode": "0600" }
            """);

        var problems = new List<string>();
        ConfigFile.Load(path, problems);

        Assert.Equal(
        [
            $"{path}: dataKeys.maxUses: expected a whole number, found a string",
            $"{path}: shutdownGrace: expected a duration string such as \"10s\", found a number",
            $"{path}: dev: expected true or false, found a string",
            $"{path}: pkcs11.decryptKeys: expected a list of strings, found a string",
            $"{path}: keystore: expected a mapping of settings, found a string",
            $"{path}: socket-mode: unknown setting; did you mean socketMode?",
        ], problems);
    }

    [Theory]
    [InlineData("broken.yaml", "socket: /a\nlogLevel: \"Debug\n", ":2: not valid YAML")]
    [InlineData("unclosed.yaml", "socket: [unclosed\nlogLevel: Debug\n", ": not valid YAML")]
    [InlineData("twice.yaml", "socket: /a\nsocket: /b\n", ":2: not valid YAML")]
    [InlineData("broken.json", "{\n  \"socket\": \"/a\",\n  \"socket\": \"/b\"\n}", ": key \"socket\" appears twice")]
    [InlineData("broken.json", "{\n  \"socket\": \n}", ":3: not valid JSON")]
    [InlineData("list.yaml", "- socket\n", ":1: expected a mapping of settings at the top, found a list")]
    [InlineData("two.yaml", "socket: /a\n---\nsocket: /b\n", ":3: holds several YAML documents")]
    public void A_file_that_is_not_a_settings_mapping_is_one_clear_problem(string name, string text, string expected)
    {
        var path = Write(name, text);
        var problems = new List<string>();

        var file = ConfigFile.Load(path, problems);

        Assert.Contains(path + expected, Assert.Single(problems));
        Assert.Empty(file.Values);
    }

    [Fact]
    public void A_missing_file_and_an_empty_file()
    {
        var problems = new List<string>();
        ConfigFile.Load(_dir.File("absent.yaml"), problems);
        Assert.StartsWith($"config file {_dir.File("absent.yaml")}: cannot be read", Assert.Single(problems));

        problems.Clear();
        Assert.Empty(ConfigFile.Load(Write("empty.yaml", "# nothing set\n"), problems).Values);
        Assert.Empty(problems);
    }

    private string Write(string name, string text)
    {
        var path = _dir.File(name);
        File.WriteAllText(path, text);
        return path;
    }
}
