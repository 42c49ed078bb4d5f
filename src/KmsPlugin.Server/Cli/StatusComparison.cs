namespace KmsPlugin.Server.Cli;

/// <summary>
/// `status --compare URL…`: reads every plugin's /metrics (kms_plugin_root_key_info and friends)
/// and prints one table of nodes and their root keys, marking with * what is not the same
/// everywhere. Exit 0 only when every node answered, is healthy, and all hold the same keys with
/// the same roles and report the same key_id.
/// </summary>
internal static class StatusComparison
{
    public static async Task<int> RunAsync(IReadOnlyList<string> urls, TimeSpan timeout, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var targets = new List<Uri>();
        foreach (var text in urls)
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                await error.WriteLineAsync($"--compare: \"{Escape(text)}\" is not a metrics URL such as http://cp-1:8787");
                return 2;
            }

            targets.Add(uri.AbsolutePath is "" or "/" ? new Uri(uri, "/metrics") : uri);
        }

        if (targets.Count < 2)
        {
            await error.WriteLineAsync("--compare needs the metrics URLs of at least two plugins");
            return 2;
        }

        using var http = new HttpClient { Timeout = timeout };
        var nodes = await Task.WhenAll(targets.Select(t => FetchAsync(http, t, error, cancellationToken)));
        var answered = nodes.OfType<NodeRootKeys>().ToList();
        var same = answered.Count == nodes.Length;
        if (answered.Count > 0)
        {
            same &= await WriteTableAsync(output, answered);
        }

        await output.WriteLineAsync(same
            ? "same root keys on every node"
            : "NOT the same on every node (marked *, or not answering): do not promote, retire or rewrite yet");
        return same ? 0 : 1;
    }

    private static async Task<NodeRootKeys?> FetchAsync(HttpClient http, Uri target, TextWriter error, CancellationToken cancellationToken)
    {
        var node = target.Authority;
        try
        {
            var page = MetricsPage.Parse(await http.GetStringAsync(target, cancellationToken));
            var keys = NodeRootKeys.From(node, page);
            if (keys is null)
            {
                await error.WriteLineAsync($"{node}: {target} lists no root keys (kms_plugin_root_key_info); is it a kms-plugin of this version?");
            }

            return keys;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"{node}: cannot read {target}: {(ex is TaskCanceledException ? $"no answer within {http.Timeout.TotalSeconds:0.#}s" : ex.Message)}");
            return null;
        }
    }

    /// <summary>Writes the table; true when every node is healthy and reports the same keys and key_id.</summary>
    private static async Task<bool> WriteTableAsync(TextWriter output, List<NodeRootKeys> nodes)
    {
        var commonKeyId = nodes.GroupBy(n => n.KeyId).OrderByDescending(g => g.Count()).First();
        var keyIdTied = nodes.GroupBy(n => n.KeyId).Count(g => g.Count() == commonKeyId.Count()) > 1;
        bool KeyIdDiffers(NodeRootKeys n) => keyIdTied ? nodes.Any(o => o.KeyId != n.KeyId) : n.KeyId != commonKeyId.Key;
        bool KeyDiffers(NodeRootKey key) => nodes.Any(n => !n.Keys.Contains(key));

        string[] header = ["NODE", "HEALTHY", "PRIMARY", "KEY_ID", "ROOT KEY", "ROLE", "KEY CHECK VALUE"];
        var rows = new List<(bool Marked, string[] Cells)>();
        foreach (var node in nodes)
        {
            for (var i = 0; i < node.Keys.Count; i++)
            {
                var key = node.Keys[i];
                string[] nodeCells = i == 0 ? [node.Node, node.Healthy ? "yes" : "NO", node.Primary, node.KeyId] : ["", "", "", ""];
                rows.Add((KeyDiffers(key) || (i == 0 && (KeyIdDiffers(node) || !node.Healthy)), [.. nodeCells, key.Id, key.Role, key.CheckValue]));
            }
        }

        var widths = header.Select((h, c) => rows.Select(r => r.Cells[c].Length).Append(h.Length).Max()).ToArray();
        string Line(bool marked, string[] cells) =>
            (marked ? "* " : "  ") + string.Join("  ", cells.Select((cell, c) => c == cells.Length - 1 ? cell : cell.PadRight(widths[c])));
        await output.WriteLineAsync(Line(false, header));
        foreach (var (marked, cells) in rows)
        {
            await output.WriteLineAsync(Line(marked, cells));
        }

        return nodes.All(n => n.Healthy && !KeyIdDiffers(n) && n.Keys.All(k => !KeyDiffers(k)));
    }

    private static string Escape(string text) => string.Concat(text.Select(c => char.IsControl(c) ? '?' : c));
}
