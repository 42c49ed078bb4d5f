using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

/// <summary>What a serve setting holds, which decides the accepted config-file types and the flag shape.</summary>
internal enum SettingKind
{
    /// <summary>A string (paths, labels, addresses, names).</summary>
    Text,

    /// <summary>A whole number.</summary>
    WholeNumber,

    /// <summary>A duration string such as <c>10s</c>, <c>5m</c>, <c>24h</c>.</summary>
    Duration,

    /// <summary>On or off (a flag without a value).</summary>
    Switch,

    /// <summary>A list of strings (a repeated flag, a comma-separated variable).</summary>
    TextList,
}
