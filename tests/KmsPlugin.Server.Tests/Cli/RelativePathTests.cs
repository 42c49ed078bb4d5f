using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Cli;

/// <summary>
/// Relative paths mean the directory the user typed the command in, under `dotnet run` (whose Web
/// SDK default is the project directory) and under the built executable alike.
/// </summary>
public sealed class RelativePathTests : IDisposable
{
    private static readonly string Project = Path.Combine(RepositoryPaths.Root, "src", "KmsPlugin.Server");
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Launchers => new() { "dotnet run", "executable" };

    [Theory]
    [MemberData(nameof(Launchers))]
    public async Task Keystore_init_and_list_read_and_write_in_the_current_directory(string launcher)
    {
        File.WriteAllText(_dir.File("pass"), "relative path test passphrase\n");
        File.SetUnixFileMode(_dir.File("pass"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var init = await RunAsync(launcher, "keystore", "init", "--keystore", "./ks.json", "--passphrase-file", "./pass");
        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.True(File.Exists(_dir.File("ks.json")), $"no ks.json in {_dir.Path}: {init}");
        Assert.False(File.Exists(Path.Combine(Project, "ks.json")));

        var list = await RunAsync(launcher, "keystore", "list", "--keystore", "./ks.json", "--passphrase-file", "./pass");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("primary", list.Output);
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public async Task Serve_puts_a_relative_socket_in_the_current_directory(string launcher)
    {
        var (file, arguments) = Command(launcher, "serve", "--dev", "--socket", "./kms.sock", "--health-address", "127.0.0.1:0");
        using var process = ProcessRunner.Start(file, arguments, workingDirectory: _dir.Path);
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // The announcement comes just after the socket accepts.
            var announcement = $"on unix socket {_dir.File("kms.sock")}";
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!PluginProcess.Connectable(_dir.File("kms.sock")) || !Logged(log, announcement))
            {
                Assert.True(!process.HasExited && DateTime.UtcNow < deadline, $"no socket at {_dir.File("kms.sock")} announced:\n{log}");
                await Task.Delay(100);
            }

            Assert.False(File.Exists(Path.Combine(Project, "kms.sock")));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public async Task Paths_in_a_relative_config_file_mean_the_current_directory_too(string launcher)
    {
        File.WriteAllText(_dir.File("pass"), "relative path test passphrase\n");
        File.SetUnixFileMode(_dir.File("pass"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var init = await RunAsync(launcher, "keystore", "init", "--keystore", "./ks.json", "--passphrase-file", "./pass");
        Assert.True(init.ExitCode == 0, init.ToString());
        File.WriteAllText(_dir.File("plugin.yaml"), "socket: ./cfg.sock\nhealthAddress: \"off\"\nkeystore:\n  path: ./ks.json\n  passphraseFile: ./pass\n");

        var (file, arguments) = Command(launcher, "serve", "--config", "./plugin.yaml");
        using var process = ProcessRunner.Start(file, arguments, workingDirectory: _dir.Path);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!PluginProcess.Connectable(_dir.File("cfg.sock")))
            {
                Assert.True(!process.HasExited && DateTime.UtcNow < deadline, $"no socket at {_dir.File("cfg.sock")}; exited: {process.HasExited}");
                await Task.Delay(100);
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        Assert.DoesNotContain("relative path test passphrase", await stdout + await stderr);
    }

    private static bool Logged(System.Text.StringBuilder log, string text)
    {
        lock (log)
        {
            return log.ToString().Contains(text, StringComparison.Ordinal);
        }
    }

    private Task<ProcessResult> RunAsync(string launcher, params string[] arguments)
    {
        var (file, all) = Command(launcher, arguments);
        return ProcessRunner.RunAsync(file, all, timeout: TimeSpan.FromMinutes(3), workingDirectory: _dir.Path);
    }

    /// <summary>`dotnet run` exactly as the README gives it, except that the tests have built it already.</summary>
    private static (string File, string[] Arguments) Command(string launcher, params string[] arguments) => launcher == "dotnet run"
        ? ("dotnet", ["run", "--no-build", "-c", BuiltConfiguration, "--project", Project, "--", .. arguments])
        : PluginExecutable.Command(arguments);

    private static string BuiltConfiguration => AppContext.BaseDirectory.Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
}
