using System.Text;
using KmsPlugin.Server.Configuration;

namespace KmsPlugin.Fuzz.Targets;

/// <summary>
/// `serve --config` files: the YAML and JSON readers raise only <see cref="ConfigFormatException"/>,
/// and <see cref="ConfigFile.Load"/>, which reports every error in its problem list, never throws.
/// </summary>
internal sealed class ConfigTarget(string repositoryRoot, string workDirectory) : IFuzzTarget
{
    public string Name => "config";

    public IEnumerable<(string Name, byte[] Bytes)> Seeds() =>
    [
        ("example-yaml", File.ReadAllBytes(Path.Combine(repositoryRoot, "charts", "examples", "kms-plugin-config.yaml"))),
        ("json", """
            { "socket": "/run/kms/kms.sock", "socketMode": "0660", "logLevel": "Debug",
              "dataKeys": { "maxUses": 5000, "maxAge": "1h" }, "provider": "pkcs11", "dev": false,
              // comments and trailing commas are allowed
              "pkcs11": { "module": "/usr/lib/softhsm/libsofthsm2.so", "decryptKeys": ["old-1"], "maxSessions": 4, }, }
            """u8.ToArray()),
    ];

    public void Run(byte[] input)
    {
        var text = Encoding.UTF8.GetString(input);
        foreach (var read in new Func<string, ConfigNode>[] { YamlConfigReader.Read, JsonConfigReader.Read })
        {
            try
            {
                read(text);
            }
            catch (ConfigFormatException)
            {
            }
        }

        foreach (var extension in new[] { "yaml", "json" })
        {
            var path = Path.Combine(workDirectory, $"fuzz-config.{extension}");
            File.WriteAllBytes(path, input);
            ConfigFile.Load(path, []);
        }
    }
}
