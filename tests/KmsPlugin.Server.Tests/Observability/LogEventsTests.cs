using System.Reflection;
using System.Text.RegularExpressions;
using KmsPlugin.Server.Observability;

namespace KmsPlugin.Server.Tests.Observability;

/// <summary>Log event ids live in one list, are unique, are the ones the code logs, and are documented.</summary>
public sealed partial class LogEventsTests
{
    private static readonly IReadOnlyList<(string Name, int Id)> Events = typeof(LogEvents)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(field => field.IsLiteral)
        .Select(field => (field.Name, (int)field.GetRawConstantValue()!))
        .ToList();

    [Fact]
    public void Every_id_is_used_once()
    {
        Assert.NotEmpty(Events);
        var reused = Events.GroupBy(e => e.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Name))}");
        Assert.Empty(reused);
    }

    [Fact]
    public void Every_logger_message_in_src_takes_its_id_and_name_from_the_list()
    {
        var src = Path.Combine(RepositoryPaths.Root, "src");
        var messages = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains("/obj/", StringComparison.Ordinal))
            .SelectMany(path => LoggerMessage().Matches(File.ReadAllText(path)).Select(m => (File: Path.GetFileName(path), Attribute: m.Value)))
            .ToList();

        Assert.True(messages.Count >= Events.Count, $"found {messages.Count} [LoggerMessage] attributes for {Events.Count} events");
        var used = new List<string>();
        foreach (var (file, attribute) in messages)
        {
            var named = NamedEvent().Match(attribute);
            Assert.True(named.Success, $"{file}: {attribute} does not take EventId and EventName from LogEvents");
            Assert.Equal(named.Groups["id"].Value, named.Groups["name"].Value);
            used.Add(named.Groups["id"].Value);
        }

        Assert.Equal(Events.Select(e => e.Name).Order(), used.Order());
    }

    [Fact]
    public void The_troubleshooting_guide_lists_every_event_with_its_id()
    {
        var guide = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "troubleshooting.md"));
        var rows = TableRow().Matches(guide).ToDictionary(m => m.Groups["name"].Value, m => int.Parse(m.Groups["id"].Value, System.Globalization.CultureInfo.InvariantCulture));

        foreach (var (name, id) in Events)
        {
            Assert.True(rows.TryGetValue(name, out var documented), $"docs/troubleshooting.md has no Log events row for {name}");
            Assert.Equal(id, documented);
        }

        Assert.Equal(Events.Count, rows.Count);
    }

    [GeneratedRegex(@"\[LoggerMessage\([^\]]*\]", RegexOptions.Singleline)]
    private static partial Regex LoggerMessage();

    [GeneratedRegex(@"EventId = LogEvents\.(?<id>\w+), EventName = nameof\(LogEvents\.(?<name>\w+)\)")]
    private static partial Regex NamedEvent();

    [GeneratedRegex(@"^\| (?<id>\d+) \| (?<name>\w+) \| \w+ \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
