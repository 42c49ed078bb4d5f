namespace KmsPlugin.Server.Etcd;

/// <summary>What `etcd verify` found. Never holds plaintext or key bytes: only etcd keys, counts and reasons.</summary>
internal sealed class VerifyReport
{
    public required string Prefix { get; init; }

    public long Revision { get; set; }

    public long Scanned { get; set; }

    /// <summary>"kms v1 ibm", "kms v2 kms-plugin", "identity (plaintext)", "aescbc key1", …</summary>
    public SortedDictionary<string, long> ByProvider { get; } = new(StringComparer.Ordinal);

    /// <summary>Values written through kms-plugin, by the root key id in the plugin ciphertext header.</summary>
    public SortedDictionary<string, long> ByRootKey { get; } = new(StringComparer.Ordinal);

    /// <summary>The plugin's primary root key (from KMS v2 Status), when a socket was given.</summary>
    public string? PrimaryRootKey { get; set; }

    public bool PluginChecked { get; set; }

    /// <summary>
    /// Set when the root keys came from a backup (keystore file or token) instead of a running
    /// plugin: what that backup is, for the report. Null in --socket mode and without root keys.
    /// </summary>
    public string? Backup { get; set; }

    public bool DecryptChecked { get; set; }

    public long DecryptedOk { get; set; }

    public List<string> Plaintext { get; } = [];

    /// <summary>Readable, but under a root key that is no longer primary: rewrite them after a rotation.</summary>
    public List<string> OnOlderRootKey { get; } = [];

    /// <summary>Under a root key the running plugin does not have: unreadable once the old keys are gone.</summary>
    public List<KeyProblem> UnknownRootKey { get; } = [];

    public List<KeyProblem> Unreadable { get; } = [];

    /// <summary>Values under any k8s:enc: provider, ours or not.</summary>
    public long Encrypted => Scanned - Plaintext.Count;

    /// <summary>Values written through kms-plugin (a root key id could be read from them).</summary>
    public long KmsPluginValues => ByRootKey.Values.Sum();

    /// <summary>Values per root key the root-key source (plugin or backup) does not have: the loudest section.</summary>
    public SortedDictionary<string, long> UnknownRootKeyCounts() => new(
        UnknownRootKey.GroupBy(p => p.Reason, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal),
        StringComparer.Ordinal);

    public bool Passed => Plaintext.Count == 0 && Unreadable.Count == 0 && UnknownRootKey.Count == 0;

    internal sealed record KeyProblem(string Key, string Reason);
}
