using System.Diagnostics;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>A command started in a given directory, as a user starts it from their shell there.</summary>
internal static class ProcessInDirectory
{
    public static Process Start(string fileName, IEnumerable<string> arguments, string directory, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("KMS_PLUGIN_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
    }

    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, string directory, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        using var process = Start(fileName, arguments, directory, environment);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish in time:\n{await output}\n{await error}");
        }

        return new ProcessResult(process.ExitCode, await output, await error);
    }
}
