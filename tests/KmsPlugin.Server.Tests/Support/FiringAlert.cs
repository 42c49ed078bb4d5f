namespace KmsPlugin.Server.Tests.Support;

/// <summary>One firing alert's labels (alertname, severity, and the labels its expression kept).</summary>
internal sealed record FiringAlert(IReadOnlyDictionary<string, string> Labels)
{
    public string Name => Labels["alertname"];

    public string? Label(string name) => Labels.TryGetValue(name, out var value) ? value : null;

    public override string ToString() => string.Join(", ", Labels.Select(l => $"{l.Key}={l.Value}"));
}
