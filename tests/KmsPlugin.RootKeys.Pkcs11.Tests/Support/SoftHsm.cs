using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace KmsPlugin.RootKeys.Pkcs11.Tests.Support;

/// <summary>
/// SoftHSM 2 for tests: one SOFTHSM2_CONF and token directory per test process, set in the native
/// environment before the module is first loaded (C_Initialize reads it once). Every test makes its
/// own token with a unique label; tokens get random slot ids, so they are found by label.
/// </summary>
internal static class SoftHsm
{
    public const string ModulePath = "/usr/lib/softhsm/libsofthsm2.so";
    public const string ConfigVariable = "SOFTHSM2_CONF";

    private static readonly object Gate = new();
    private static readonly Lazy<(string Root, string Config, string Tokens)> Setup = new(Create);

    public static string ConfigPath => Setup.Value.Config;

    public static string TokenDirectory => Setup.Value.Tokens;

    /// <summary>Environment for child processes (the plugin, the CLI) that must see the same tokens.</summary>
    public static Dictionary<string, string> Environment => new() { [ConfigVariable] = ConfigPath };

    public static SoftHsmToken CreateToken()
    {
        var label = "t-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var pin = "pin-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        lock (Gate)
        {
            var before = Directory.GetDirectories(TokenDirectory).ToHashSet();
            Util("--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "so-" + pin);
            var directory = Directory.GetDirectories(TokenDirectory).Single(d => !before.Contains(d));
            return new SoftHsmToken(label, pin, directory);
        }
    }

    public static void Util(params string[] arguments)
    {
        var start = new ProcessStartInfo("softhsm2-util") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment[ConfigVariable] = ConfigPath;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"softhsm2-util {arguments[0]} failed ({process.ExitCode}): {error} {output.Result}");
        }
    }

    private static (string, string, string) Create()
    {
        if (!File.Exists(ModulePath))
        {
            throw new InvalidOperationException($"SoftHSM is not installed ({ModulePath} missing): run scripts/test.sh, which installs softhsm2");
        }

        var root = Directory.CreateTempSubdirectory("kms-softhsm-").FullName;
        var tokens = Path.Combine(root, "tokens");
        Directory.CreateDirectory(tokens);
        var config = Path.Combine(root, "softhsm2.conf");
        File.WriteAllText(config, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
        System.Environment.SetEnvironmentVariable(ConfigVariable, config);

        // .NET keeps its own copy of the environment; the native module calls getenv.
        if (SetNativeEnvironment(ConfigVariable, config, 1) != 0)
        {
            throw new InvalidOperationException("setenv failed");
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return (root, config, tokens);
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetNativeEnvironment(string name, string value, int overwrite);
}
