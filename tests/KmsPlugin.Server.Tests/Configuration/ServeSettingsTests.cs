using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Configuration;
using KmsPlugin.Server.RootKeys.Pkcs11;

namespace KmsPlugin.Server.Tests.Configuration;

/// <summary>The settings table against the command, docs/configuration.md and the example, and the merge order.</summary>
public sealed partial class ServeSettingsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Every_serve_flag_has_a_config_key()
    {
        var flags = ServeCommand.Create().Options
            .Where(o => !o.Hidden && o.Name != ServeCommand.ConfigFlag && o is not System.CommandLine.Help.HelpOption)
            .Select(o => o.Name)
            .ToList();

        Assert.NotEmpty(flags);
        foreach (var flag in flags)
        {
            Assert.True(ServeSettings.All.Any(s => s.Flag == flag), $"serve {flag} has no config key: add it to ServeSettings");
        }

        Assert.Equal(ServeSettings.All.Count, ServeSettings.All.Select(s => s.Key).Distinct().Count());
        Assert.Equal(ServeSettings.All.Count, ServeSettings.All.Select(s => s.Flag).Distinct().Count());
        var variables = ServeSettings.All.Select(s => s.EnvironmentVariable).OfType<string>().ToList();
        Assert.Equal(variables.Count, variables.Distinct().Count());
    }

    [Fact]
    public void A_flag_beats_its_variable_which_beats_the_file_which_beats_the_default()
    {
        var file = LoadEverySettingFile();
        foreach (var setting in ServeSettings.All)
        {
            var flag = ConfigValue.Scalar("from-flag", setting.Flag);
            var env = new Dictionary<string, string?>();
            if (setting.EnvironmentVariable is { } variable)
            {
                env[variable] = "from-env";
            }

            Assert.Equal(setting.Flag, Sources(flag, file, env).Resolve(setting).Origin);
            var withoutFlag = Sources(null, file, env).Resolve(setting).Origin;
            Assert.StartsWith(setting.EnvironmentVariable ?? $"{file.Path}:", withoutFlag);
            Assert.StartsWith($"{file.Path}:", Sources(null, file, []).Resolve(setting).Origin);
            var fallback = Sources(null, null, []).Resolve(setting);
            Assert.Equal(setting.Default, fallback.Text);
            Assert.Equal($"{setting.Flag} (default)", fallback.Origin);
        }
    }

    [Fact]
    public void The_decrypt_key_variable_is_comma_separated()
    {
        var env = new Dictionary<string, string?> { [Pkcs11Settings.DecryptKeys.EnvironmentVariable!] = "a, b,,c" };

        Assert.Equal(["a", "b", "c"], Sources(null, null, env).Resolve(Pkcs11Settings.DecryptKeys).Items);
    }

    [Fact]
    public void The_example_config_sets_every_key_when_uncommented_and_the_configuration_reference_documents_each()
    {
        var example = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "charts/examples/kms-plugin-config.yaml"));
        var problems = new List<string>();
        var asShipped = ConfigFile.Load(Write("shipped.yaml", example), problems);
        var uncommented = ConfigFile.Load(Write("full.yaml", CommentedSetting().Replace(example, "$1")), problems);

        Assert.Empty(problems);
        Assert.Contains("keystore.path", asShipped.Values.Keys);
        Assert.Equal(ServeSettings.All.Select(s => s.Key).Order(), uncommented.Values.Keys.Order());
        var resolved = ServeConfiguration.Resolve(Sources(null, uncommented, []), problems);
        Assert.Empty(problems);
        Assert.Equal(TimeSpan.FromSeconds(2), resolved.RootKeySettingsByModule.Values.OfType<Pkcs11Settings>().Single().CallTimeout);

        var reference = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs/configuration.md"));
        foreach (var setting in ServeSettings.All)
        {
            var row = reference.Split('\n').FirstOrDefault(l => l.StartsWith($"| `{setting.Key}` |", StringComparison.Ordinal));
            Assert.True(row is not null, $"docs/configuration.md has no row for {setting.Key}");
            Assert.Contains($"`{setting.Flag}`", row);
            Assert.Contains(setting.EnvironmentVariable is null ? "—" : $"`{setting.EnvironmentVariable}`", row);
            Assert.Contains(setting.Default is null ? "—" : $"`{setting.Default}`", row);
        }
    }

    private static SettingSources Sources(ConfigValue? flag, ConfigFile? file, Dictionary<string, string?> environment) =>
        new(_ => flag, file, name => environment.GetValueOrDefault(name));

    private ConfigFile LoadEverySettingFile()
    {
        var yaml = new StringBuilder();
        foreach (var section in ServeSettings.All.GroupBy(s => s.Key.Contains('.', StringComparison.Ordinal) ? s.Key[..s.Key.IndexOf('.', StringComparison.Ordinal)] : ""))
        {
            var indent = section.Key.Length == 0 ? "" : "  ";
            if (section.Key.Length > 0)
            {
                yaml.AppendLine($"{section.Key}:");
            }

            foreach (var setting in section)
            {
                var name = setting.Key[(setting.Key.LastIndexOf('.') + 1)..];
                var value = setting.Kind switch
                {
                    SettingKind.TextList => "[from-file]",
                    SettingKind.Switch => "true",
                    SettingKind.WholeNumber => "7",
                    _ => "from-file",
                };
                yaml.AppendLine($"{indent}{name}: {value}");
            }
        }

        var problems = new List<string>();
        var file = ConfigFile.Load(Write("every.yaml", yaml.ToString()), problems);
        Assert.Empty(problems);
        Assert.Equal(ServeSettings.All.Count, file.Values.Count);
        return file;
    }

    private string Write(string name, string text)
    {
        var path = _dir.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    // "# pkcs11:" and "#   token: kms" in the example become "pkcs11:" and "  token: kms".
    [GeneratedRegex(@"(?m)^# (\s*[A-Za-z0-9]+:.*)$")]
    private static partial Regex CommentedSetting();
}
