using System.CommandLine;

using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

/// <summary>
/// One `serve` setting under all its names: the config-file key (dotted path), the flag and the
/// environment variable. <see cref="RuntimeChangeable"/> says whether a reload applies it.
/// </summary>
internal sealed record ServeSetting(
    string Key,
    string Flag,
    string? EnvironmentVariable,
    SettingKind Kind,
    string? Default,
    string Description,
    bool RuntimeChangeable = false)
{
    /// <param name="deprecatedFlag">An older name the option still answers to; <c>--help</c> says so.</param>
    public Option CreateOption(string? deprecatedFlag = null)
    {
        var sources = EnvironmentVariable is null ? $"config {Key}" : $"env {EnvironmentVariable}; config {Key}";
        var description = Default is null ? $"{Description} [{sources}]" : $"{Description} [{sources}; default {Default}]";
        if (deprecatedFlag is not null)
        {
            description += $" ({deprecatedFlag} is deprecated: use {Flag})";
        }

        Option option = Kind switch
        {
            SettingKind.Switch => new Option<bool>(Flag) { Description = description },
            SettingKind.TextList => new Option<string[]>(Flag) { Description = description, AllowMultipleArgumentsPerToken = false },
            _ => new Option<string?>(Flag) { Description = description },
        };
        if (deprecatedFlag is not null)
        {
            option.Aliases.Add(deprecatedFlag);
        }

        return option;
    }
}
