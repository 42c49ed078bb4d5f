using System.Globalization;
using System.Net;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Hosting;

namespace KmsPlugin.Server.Configuration;

/// <summary>
/// Turns a setting's text into its value, or adds a problem that starts with where the text came
/// from (flag, variable or file:line: key) and returns a placeholder so checking can go on.
/// </summary>
internal sealed class SettingParser(List<string> problems)
{
    public UnixFileMode Mode(ConfigValue value)
    {
        try
        {
            var mode = (UnixFileMode)Convert.ToInt32(value.Text, 8);
            if ((mode & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite)) != 0)
            {
                Problem(value, "only owner and group read/write bits are allowed (0600 or 0660)");
            }

            return mode;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            Problem(value, "not an octal file mode such as 0600");
            return PluginHostOptions.DefaultSocketMode;
        }
    }

    public IPEndPoint? Endpoint(ConfigValue value)
    {
        var text = value.Text ?? "";
        if (text == "off")
        {
            return null;
        }

        if (IPEndPoint.TryParse(text, out var endpoint) && text.Contains(':', StringComparison.Ordinal))
        {
            return endpoint;
        }

        Problem(value, "expected IP:port such as 127.0.0.1:8787, or off");
        return null;
    }

    /// <summary>The absolute path, or null when not set (or empty, which is a problem).</summary>
    public string? FullPath(ConfigValue value)
    {
        if (value.Text is not { Length: > 0 } text)
        {
            if (value.Text is not null)
            {
                Problem(value, "an empty path");
            }

            return null;
        }

        return Path.GetFullPath(text);
    }

    public TimeSpan Duration(ConfigValue value)
    {
        if (DurationText.TryParse(value.Text ?? "", out var duration) && duration > TimeSpan.Zero)
        {
            return duration;
        }

        Problem(value, "not a positive duration such as 10s, 5m or 24h");
        return TimeSpan.FromSeconds(1);
    }

    public long WholeNumber(ConfigValue value, long max)
    {
        if (long.TryParse(value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number <= max)
        {
            return number;
        }

        Problem(value, $"not a whole number up to {max}");
        return 1;
    }

    public bool Switch(ConfigValue value)
    {
        if (value.Text is null || bool.TryParse(value.Text, out var on) && !on)
        {
            return false;
        }

        if (bool.TryParse(value.Text, out _))
        {
            return true;
        }

        Problem(value, "expected true or false");
        return false;
    }

    public T Enum<T>(ConfigValue value)
        where T : struct, Enum
    {
        if (System.Enum.TryParse<T>(value.Text, ignoreCase: true, out var parsed) && System.Enum.IsDefined(parsed))
        {
            return parsed;
        }

        Problem(value, $"expected one of {string.Join(", ", System.Enum.GetNames<T>())}");
        return default;
    }

    public string OneOf(ConfigValue value, params string[] allowed)
    {
        if (allowed.Contains(value.Text, StringComparer.Ordinal))
        {
            return value.Text!;
        }

        Problem(value, $"expected {string.Join(" or ", allowed)}");
        return allowed[0];
    }

    public void Problem(ConfigValue value, string reason) => problems.Add($"{value.Origin} {value.Display}: {reason}");
}
