using System.Text;
using CsCheck;
using KmsPlugin.Server.Configuration;
using KmsPlugin.Tests.Shared.Properties;

namespace KmsPlugin.Server.Tests.Properties;

/// <summary>
/// Mutated `serve --config` files: the YAML and JSON readers raise only <see cref="ConfigFormatException"/>,
/// and <see cref="ConfigFile.Load"/>, whose errors are its problem list, never throws at all.
/// </summary>
public sealed class ConfigFileMutationProperties : IDisposable
{
    private const int Cases = 100_000;

    /// <summary>Every this many cases also go through a real file and <see cref="ConfigFile.Load"/>.</summary>
    private const int LoadEvery = 50;

    private const string Json = """
        {
          "socket": "/run/kms/kms.sock", "socketMode": "0660", "logLevel": "Debug",
          "dataKeys": { "maxUses": 5000, "maxAge": "1h" },
          "provider": "pkcs11", "dev": false,
          // comments and trailing commas are allowed
          "pkcs11": { "module": "/usr/lib/softhsm/libsofthsm2.so", "decryptKeys": ["old-1", "old-2"], "maxSessions": 4, },
        }
        """;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Mutated_config_files_give_format_errors_or_problems_never_other_exceptions()
    {
        var yaml = File.ReadAllBytes(Path.Combine(RepositoryPaths.Root, "charts", "examples", "kms-plugin-config.yaml"));
        var samples = new[] { yaml, Encoding.UTF8.GetBytes(Json) };
        var files = new[] { _temp.File("mutant.yaml"), _temp.File("mutant.json") };
        var loaded = 0;
        var withProblems = 0;

        FixedSeedProperty.Check(Gen.Select(ByteMutations.Of(samples), Gen.Int[0, LoadEvery * 2 - 1]), c =>
        {
            var (mutant, pick) = c;
            var text = Encoding.UTF8.GetString(mutant.Bytes);
            // The reader ConfigFile picks for a file without a telling extension.
            ReadOrFormatError(() => text.TrimStart().StartsWith('{') ? JsonConfigReader.Read(text) : YamlConfigReader.Read(text));
            if (pick < 2)
            {
                File.WriteAllBytes(files[pick], mutant.Bytes);
                var problems = new List<string>();
                ConfigFile.Load(files[pick], problems);
                Assert.All(problems, p => Assert.Contains(files[pick], p));
                loaded++;
                withProblems += problems.Count > 0 ? 1 : 0;
            }
        }, Cases, c => c.Item1.ToString());

        Assert.True(loaded > Cases / LoadEvery / 2 && withProblems > loaded / 4, $"{loaded} loaded, {withProblems} with problems");
    }

    private static void ReadOrFormatError(Func<ConfigNode> read)
    {
        try
        {
            read();
        }
        catch (ConfigFormatException)
        {
        }
    }
}
