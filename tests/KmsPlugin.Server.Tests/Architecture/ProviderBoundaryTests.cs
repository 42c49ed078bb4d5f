using System.Text.RegularExpressions;

namespace KmsPlugin.Server.Tests.Architecture;

/// <summary>
/// A root-key provider lives in its own folders; outside them only the registry names it. Comment
/// lines are not code and may mention any provider.
/// </summary>
public sealed partial class ProviderBoundaryTests
{
    private const string Registry = "src/KmsPlugin.Server/RootKeys/RootKeyModules.cs";

    /// <summary>Files allowed to cross a boundary, each with the reason (none today: keep it that way).</summary>
    private static readonly Dictionary<string, string> KeystoreNamespaceAllowed = new(StringComparer.Ordinal);

    [Fact]
    public void Only_the_pkcs11_folders_and_the_registry_name_pkcs11()
    {
        var offenders = CodeLines()
            .Where(line => !line.File.StartsWith("src/KmsPlugin.RootKeys.Pkcs11/", StringComparison.Ordinal)
                && !line.File.StartsWith("src/KmsPlugin.Server/RootKeys/Pkcs11/", StringComparison.Ordinal)
                && line.File != Registry
                && line.Text.Contains("pkcs11", StringComparison.OrdinalIgnoreCase))
            .Select(line => $"{line.File}:{line.Number}: {line.Text.Trim()}")
            .ToList();

        Assert.True(offenders.Count == 0, "PKCS#11 named outside its module:\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void Only_the_keystore_folders_use_the_keystore_namespace()
    {
        var offenders = CodeLines()
            .Where(line => !line.File.StartsWith("src/KmsPlugin.RootKeys.Keystore/", StringComparison.Ordinal)
                && !line.File.StartsWith("src/KmsPlugin.Server/RootKeys/Keystore/", StringComparison.Ordinal)
                && line.File != Registry
                && !KeystoreNamespaceAllowed.ContainsKey(line.File)
                && KeystoreNamespace().IsMatch(line.Text))
            .Select(line => $"{line.File}:{line.Number}: {line.Text.Trim()}")
            .ToList();

        Assert.True(offenders.Count == 0, "KmsPlugin.RootKeys.Keystore used outside its module:\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void The_host_reaches_fault_injection_only_through_the_registry()
    {
        var offenders = CodeLines()
            .Where(line => line.File.StartsWith("src/KmsPlugin.Server/Hosting/", StringComparison.Ordinal)
                && (line.Text.Contains("RootKeys.Faults", StringComparison.Ordinal) || line.Text.Contains("FaultInjecting", StringComparison.Ordinal)
                    || line.Text.Contains("RootKeyFaultsFile", StringComparison.Ordinal)))
            .Select(line => $"{line.File}:{line.Number}: {line.Text.Trim()}")
            .ToList();

        Assert.True(offenders.Count == 0, "the host names fault injection instead of decorating through RootKeyModules:\n" + string.Join('\n', offenders));
        Assert.Contains(Server.RootKeys.RootKeyModules.Decorators, d => d is Server.RootKeys.Faults.FaultInjectionDecorator);
    }

    [Fact]
    public void The_scan_sees_the_modules()
    {
        var files = CodeLines().Select(line => line.File).ToHashSet(StringComparer.Ordinal);

        Assert.Contains(Registry, files);
        Assert.Contains("src/KmsPlugin.Server/RootKeys/Pkcs11/Pkcs11Module.cs", files);
        Assert.Contains("src/KmsPlugin.Server/RootKeys/Keystore/KeystoreModule.cs", files);
        Assert.Contains(CodeLines(), line => line.File == Registry && line.Text.Contains("Pkcs11Module", StringComparison.Ordinal));
        foreach (var allowed in KeystoreNamespaceAllowed.Keys)
        {
            Assert.True(File.Exists(Path.Combine(RepositoryPaths.Root, allowed)), $"allow-listed {allowed} no longer exists: drop it from the list");
        }
    }

    private static IEnumerable<(string File, int Number, string Text)> CodeLines()
    {
        var src = Path.Combine(RepositoryPaths.Root, "src");
        foreach (var path in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(RepositoryPaths.Root, path).Replace('\\', '/');
            if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal))
            {
                continue;
            }

            var number = 0;
            foreach (var text in File.ReadLines(path))
            {
                number++;
                if (!text.TrimStart().StartsWith("//", StringComparison.Ordinal))
                {
                    yield return (relative, number, text);
                }
            }
        }
    }

    [GeneratedRegex(@"\bKmsPlugin\.RootKeys\.Keystore\b")]
    private static partial Regex KeystoreNamespace();
}
