using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

/// <summary>The closest known name to a misspelt one, by edit distance ignoring case and dashes.</summary>
internal static class DidYouMean
{
    public static string? Find(string unknown, IEnumerable<string> known)
    {
        var wanted = Normalize(unknown);
        var best = known
            .Select(k => (Name: k, Distance: Distance(wanted, Normalize(k))))
            .OrderBy(c => c.Distance)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(2, wanted.Length / 4) ? best.Name : null;
    }

    private static string Normalize(string name) =>
        name.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
