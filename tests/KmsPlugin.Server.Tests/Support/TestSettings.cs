using System.Globalization;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>Knobs of the long-running tests; the defaults are what the issue asks for and what CI runs.</summary>
internal static class TestSettings
{
    public static int Int(string variable, int fallback) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text
            ? int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture)
            : fallback;
}
