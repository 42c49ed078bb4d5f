using System.CommandLine;
using System.Text.RegularExpressions;
using KmsPlugin.Core.Envelope;
using KmsPlugin.RootKeys.Pkcs11;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Configuration;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.RootKeys.Pkcs11;

namespace KmsPlugin.Server.Tests.Configuration;

/// <summary>One settings table for every verb: its flags, variables and defaults, and the verbs' older flag names.</summary>
public sealed partial class VerbSettingsTests
{
    [Fact]
    public void The_table_defaults_are_the_options_records_defaults()
    {
        var problems = new List<string>();
        var resolved = ServeConfiguration.Resolve(new SettingSources(_ => null, null, _ => null), problems);
        var host = new PluginHostOptions { SocketPath = CommonOptions.DefaultSocket };
        var envelope = new EnvelopeOptions();
        var pkcs11 = resolved.RootKeySettingsByModule.Values.OfType<Pkcs11Settings>().Single();

        Assert.Empty(problems);
        Assert.Equal(host.SocketMode, resolved.Host.SocketMode);
        Assert.Equal(host.LogLevel, resolved.Host.LogLevel);
        Assert.Equal(host.ShutdownGrace, resolved.Host.ShutdownGrace);
        Assert.Equal(host.ExpiryWarning, resolved.Host.ExpiryWarning);
        Assert.Equal(envelope.DataKeyCacheCapacity, resolved.Host.Envelope.DataKeyCacheCapacity);
        Assert.Equal(envelope.RootKeyCallTimeout, resolved.Host.Envelope.RootKeyCallTimeout);
        Assert.Equal(envelope.Rotation.MaxUses, resolved.Host.Envelope.Rotation.MaxUses);
        Assert.Equal(envelope.Rotation.MaxAge, resolved.Host.Envelope.Rotation.MaxAge);
        Assert.Equal(Pkcs11ProviderOptions.DefaultMaxSessions, pkcs11.MaxSessions);
        Assert.Equal(Pkcs11ProviderOptions.DefaultCallTimeout, pkcs11.CallTimeout);
    }

    [Theory]
    [InlineData("--shutdown-grace", "default 10s]")]
    [InlineData("--expiry-warning", "default 720h]")]
    [InlineData("--dek-max-age", "default 24h]")]
    [InlineData("--dek-cache-size", "default 1000]")]
    [InlineData("--root-key-timeout", "default 2s]")]
    [InlineData("--socket-mode", "default 0600]")]
    [InlineData("--log-level", "default Information]")]
    [InlineData("--pkcs11-max-sessions", "default 8]")]
    [InlineData("--pkcs11-call-timeout", "default 2s]")]
    public void Serve_help_shows_each_default_as_written_before(string flag, string shown)
    {
        var option = ServeCommand.Create().Options.Single(o => o.Name == flag);

        Assert.EndsWith(shown, option.Description);
    }

    [Theory]
    [InlineData("1h", 3600)]
    [InlineData("90m", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("1.5s", 1.5)]
    public void A_formatted_duration_reads_back_as_itself(string text, double seconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
        Assert.True(DurationText.TryParse(DurationText.Format(duration), out var again));
        Assert.Equal(duration, again);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("keygen")]
    [InlineData("promote")]
    public void Pkcs11_verbs_take_serves_flags_and_their_old_names_as_deprecated_aliases(string verb)
    {
        string[] label = verb == "list" ? [] : ["--label", "k"];
        var old = Parse(["pkcs11", verb, "--module", "/m.so", "--token", "t", "--token-serial", "s", "--pin-file", "/p", .. label]);
        var current = Parse(["pkcs11", verb, "--pkcs11-module", "/m.so", "--pkcs11-token", "t", "--pkcs11-token-serial", "s", "--pkcs11-pin-file", "/p", .. label]);

        foreach (var parse in new[] { old, current })
        {
            Assert.Empty(parse.Errors);
            Assert.Equal("/m.so", parse.GetValue<string?>("--pkcs11-module"));
            Assert.Equal("t", parse.GetValue<string?>("--pkcs11-token"));
            Assert.Equal("s", parse.GetValue<string?>("--pkcs11-token-serial"));
            Assert.Equal("/p", parse.GetValue<string?>("--pkcs11-pin-file"));
        }

        var options = Verb("pkcs11", verb).Options;
        foreach (var (name, alias) in new[] { ("--pkcs11-module", "--module"), ("--pkcs11-token", "--token"), ("--pkcs11-token-serial", "--token-serial"), ("--pkcs11-pin-file", "--pin-file") })
        {
            var option = options.Single(o => o.Name == name);
            Assert.Contains(alias, option.Aliases);
            Assert.Contains($"({alias} is deprecated: use {name})", option.Description);
        }
    }

    [Fact]
    public void Every_verb_names_each_setting_by_its_one_flag_and_one_variable()
    {
        var checkedOptions = 0;
        foreach (var (path, option) in AllOptions(Program.BuildCommandLine(), ""))
        {
            foreach (Match variable in Variable().Matches(option.Description ?? ""))
            {
                var name = variable.Groups[1].Value;
                if (name == EnvironmentVariables.Config)
                {
                    Assert.Equal(ServeCommand.ConfigFlag, option.Name);
                    continue;
                }

                var setting = ServeSettings.All.SingleOrDefault(s => s.EnvironmentVariable == name);
                if (setting is not null && variable.Value.StartsWith("env ", StringComparison.Ordinal))
                {
                    Assert.True(setting.Flag == option.Name, $"{path} {option.Name} reads {name}, which is {setting.Flag} everywhere else");
                    checkedOptions++;
                }
            }

            // The etcd verbs' --socket takes no variable or default on purpose: on verify giving it is what
            // selects checking through a running plugin instead of a backup's root keys; write-samples requires it.
            if (path.StartsWith("etcd ", StringComparison.Ordinal) && option.Name == "--socket")
            {
                continue;
            }

            if (ServeSettings.All.SingleOrDefault(s => s.Flag == option.Name) is { EnvironmentVariable: { } own })
            {
                Assert.Contains($"env {own}", option.Description);
            }
        }

        Assert.True(checkedOptions > 20, $"only {checkedOptions} setting options found");
    }

    [Theory]
    [InlineData("status")]
    [InlineData("keystore list")]
    [InlineData("keystore export")]
    [InlineData("pkcs11 list")]
    [InlineData("etcd verify")]
    public void Verbs_that_read_settings_take_config(string verb)
    {
        var words = verb.Split(' ');
        var command = Verb(words[0], words.Length > 1 ? words[1] : null);

        Assert.Contains(command.Options, o => o.Name == ServeCommand.ConfigFlag);
    }

    private static ParseResult Parse(string[] arguments) => Program.BuildCommandLine().Parse(arguments);

    private static Command Verb(string name, string? sub)
    {
        var command = Program.BuildCommandLine().Subcommands.Single(c => c.Name == name);
        return sub is null ? command : command.Subcommands.Single(c => c.Name == sub);
    }

    private static IEnumerable<(string Path, Option Option)> AllOptions(Command command, string path)
    {
        foreach (var option in command.Options)
        {
            yield return (path, option);
        }

        foreach (var sub in command.Subcommands)
        {
            foreach (var pair in AllOptions(sub, $"{path} {sub.Name}".Trim()))
            {
                yield return pair;
            }
        }
    }

    [GeneratedRegex(@"(?:env |in )(KMS_PLUGIN_[A-Z0-9_]+)")]
    private static partial Regex Variable();
}
