using System.Text.Json;
using KmsPlugin.LoadGen.Cli;
using KmsPlugin.LoadGen.ColdStart;
using KmsPlugin.LoadGen.Load;

namespace KmsPlugin.LoadGen.Report;

/// <summary>Every result file of one measurement run: load results (arrays) and cold-start phases (objects).</summary>
internal sealed class ResultSet
{
    public List<LoadResult> Load { get; } = [];

    public List<ColdStartResult> ColdStart { get; } = [];

    public static ResultSet ReadDirectory(string directory)
    {
        var set = new ResultSet();
        foreach (var path in Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            if (document.RootElement.ValueKind == JsonValueKind.Array)
            {
                set.Load.AddRange(document.RootElement.Deserialize<List<LoadResult>>(JsonOutput.Options) ?? []);
            }
            else if (document.RootElement.TryGetProperty("phase", out _))
            {
                set.ColdStart.Add(document.RootElement.Deserialize<ColdStartResult>(JsonOutput.Options)!);
            }
        }

        return set;
    }
}
