using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Docs;

/// <summary>
/// One document's runnable blocks, in order, in a fresh directory that looks like the root of a
/// clone (`src` is the repository's), with `kms-plugin` on PATH running the tests' build.
/// Background blocks run until the document is done; variables carry from block to block.
/// </summary>
internal sealed class DocumentRun : IAsyncDisposable
{
    private static readonly TimeSpan BlockTimeout = TimeSpan.FromMinutes(5);
    private readonly TempDirectory _dir = new();
    private readonly Dictionary<string, string> _environment;
    private readonly List<(ShellBlock Block, Process Process, StringBuilder Output)> _background = [];

    public DocumentRun()
    {
        var shims = Directory.CreateDirectory(_dir.File(".shims")).FullName;
        var dotnet = RealDotnet();
        WriteShim(Path.Combine(shims, "kms-plugin"), PluginExecutable.Native is { } native ? $"exec '{native}' \"$@\"" : $"exec '{dotnet}' '{PluginExecutable.Dll}' \"$@\"");
        // `dotnet run` as the README gives it, without building again what the tests were built from.
        WriteShim(Path.Combine(shims, "dotnet"), $"if [ \"${{1:-}}\" = run ]; then shift; exec '{dotnet}' run --no-build -c {BuiltConfiguration} \"$@\"; fi\nexec '{dotnet}' \"$@\"");
        // What `dotnet run --project src/…` evaluates above the project, and what the docs link to.
        foreach (var entry in new[] { "src", "protos", "charts", "Directory.Build.props", "Directory.Packages.props", "global.json" })
        {
            File.CreateSymbolicLink(_dir.File(entry), Path.Combine(RepositoryPaths.Root, entry));
        }

        Directory.CreateDirectory(_dir.File(".softhsm-tokens"));
        File.WriteAllText(_dir.File(".softhsm2.conf"), $"directories.tokendir = {_dir.File(".softhsm-tokens")}\nobjectstore.backend = file\n");
        _environment = new Dictionary<string, string>
        {
            ["PATH"] = $"{shims}:{Environment.GetEnvironmentVariable("PATH")}",
            ["KMS_DOC_STATE"] = _dir.File(".doc-state"),
            ["SOFTHSM2_CONF"] = _dir.File(".softhsm2.conf"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        };
    }

    /// <summary>Runs one block; the failure message names the document, line, command and output.</summary>
    public async Task RunAsync(ShellBlock block)
    {
        if (block.Mark == ShellBlockMark.Background)
        {
            await StartBackgroundAsync(block);
            return;
        }

        var deadline = DateTime.UtcNow + (block.Retry ?? TimeSpan.Zero);
        while (true)
        {
            var result = await ProcessRunner.RunAsync("bash", ["-c", Script(block, saveState: true)], _environment, BlockTimeout, _dir.Path);
            var problem = result.ExitCode != 0 ? $"exited {result.ExitCode}" : MissingOutput(block, result.Output);
            if (problem is null)
            {
                return;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new DocumentedCommandException($"{block.Where}: `{block.FirstLine}` {problem}\n{result}{BackgroundLogs()}");
            }

            await Task.Delay(1000);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, process, _) in _background)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        _dir.Dispose();
    }

    private async Task StartBackgroundAsync(ShellBlock block)
    {
        if (block.Wait is { } taken && Ready(taken))
        {
            // Waiting would succeed at once on someone else's server and the document would run against it.
            throw new DocumentedCommandException($"{block.Where}: {taken} already accepts connections before `{block.FirstLine}` started: stop what holds it");
        }

        var process = ProcessRunner.Start("bash", ["-c", Script(block, saveState: false)], _environment, _dir.Path);
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _background.Add((block, process, output));
        if (block.Wait is not { } wait)
        {
            throw new DocumentedCommandException($"{block.Where}: a background block needs wait=<socket path> or wait=tcp:<port>");
        }

        var deadline = DateTime.UtcNow + BlockTimeout;
        while (!Ready(wait))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new DocumentedCommandException($"{block.Where}: `{block.FirstLine}` {(process.HasExited ? $"exited {process.ExitCode}" : "timed out")} before {wait} was ready{BackgroundLogs()}");
            }

            await Task.Delay(200);
        }
    }

    private bool Ready(string wait)
    {
        using var socket = wait.StartsWith("tcp:", StringComparison.Ordinal)
            ? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(wait.StartsWith("tcp:", StringComparison.Ordinal)
                ? new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, int.Parse(wait[4..], System.Globalization.CultureInfo.InvariantCulture))
                : new UnixDomainSocketEndPoint(Path.Combine(_dir.Path, wait)));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>`set -a` exports every assignment, so what one block sets the next one sees, as in one terminal.</summary>
    private static string Script(ShellBlock block, bool saveState) =>
        "set -eu\nset -a\nif [ -f \"$KMS_DOC_STATE\" ]; then . \"$KMS_DOC_STATE\"; fi\n"
        + block.Script + "\n"
        + (saveState ? "export -p > \"$KMS_DOC_STATE\"\n" : "");

    private static string? MissingOutput(ShellBlock block, string output)
    {
        var at = 0;
        foreach (var line in block.ExpectedOutput)
        {
            var found = output.IndexOf(line, at, StringComparison.Ordinal);
            if (found < 0)
            {
                return $"did not print the documented line \"{line}\" (in this order)";
            }

            at = found + line.Length;
        }

        return null;
    }

    private string BackgroundLogs()
    {
        var text = new StringBuilder();
        foreach (var (block, _, output) in _background)
        {
            lock (output)
            {
                text.Append($"\n--- background {block.Where} `{block.FirstLine}`:\n{output}");
            }
        }

        return text.ToString();
    }

    private static void WriteShim(string path, string body)
    {
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static string RealDotnet() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "dotnet")).FirstOrDefault(File.Exists)
          ?? throw new InvalidOperationException("dotnet not found on PATH");

    private static string BuiltConfiguration => AppContext.BaseDirectory.Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
}
