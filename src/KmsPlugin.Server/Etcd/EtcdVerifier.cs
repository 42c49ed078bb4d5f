using KmsPlugin.EtcdValues;

namespace KmsPlugin.Server.Etcd;

/// <summary>
/// Reads every value under a prefix and says how each is stored: by provider, by kms-plugin root
/// key, and (with a plugin) whether its root key is still known and its payload still opens.
/// Read-only: it never writes to etcd and never outputs plaintext.
/// </summary>
internal sealed class EtcdVerifier
{
    private readonly EtcdKeyScanner _scanner;
    private readonly DataKeyChecker? _checker;
    private readonly bool _decryptCheck;
    private readonly string? _backup;

    public EtcdVerifier(EtcdKeyScanner scanner, DataKeyChecker? checker, bool decryptCheck, string? backup = null)
    {
        _scanner = scanner;
        _checker = checker;
        _decryptCheck = decryptCheck && checker is not null;
        _backup = backup;
    }

    public async Task<VerifyReport> RunAsync(string prefix, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var report = new VerifyReport { Prefix = prefix, PluginChecked = _checker is not null, DecryptChecked = _decryptCheck, Backup = _backup };
        if (_checker is not null)
        {
            report.PrimaryRootKey = await _checker.PrimaryRootKeyAsync(cancellationToken);
        }

        await foreach (var (key, value) in _scanner.ScanAsync(prefix, cancellationToken))
        {
            report.Scanned++;
            await InspectAsync(report, key, value, cancellationToken);
            progress?.Report(report.Scanned);
        }

        report.Revision = _scanner.Revision;
        return report;
    }

    private async Task InspectAsync(VerifyReport report, string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        var classified = EtcdValuePrefix.Classify(value);
        Count(report.ByProvider, ProviderLabel(classified));
        if (classified.Kind == EtcdValueKind.Identity)
        {
            report.Plaintext.Add(key);
            return;
        }

        if (classified.Kind is not (EtcdValueKind.KmsV1 or EtcdValueKind.KmsV2))
        {
            return;
        }

        ParsedKmsValue parsed;
        try
        {
            parsed = ParsedKmsValue.Parse(classified.Kind, value);
        }
        catch (EtcdValueException ex)
        {
            report.Unreadable.Add(new(key, ex.Message));
            return;
        }

        var ids = parsed.Ids;
        Count(report.ByRootKey, ids.RootKeyId);
        if (report.PrimaryRootKey is { } primary && ids.RootKeyId != primary)
        {
            report.OnOlderRootKey.Add(key);
        }

        if (_checker is null)
        {
            return;
        }

        var (problem, unknownRootKey) = await _checker.CheckAsync(key, parsed, _decryptCheck, cancellationToken);
        if (problem is null)
        {
            report.DecryptedOk += _decryptCheck ? 1 : 0;
        }
        else if (unknownRootKey)
        {
            report.UnknownRootKey.Add(new(key, ids.RootKeyId));
        }
        else
        {
            report.Unreadable.Add(new(key, problem));
        }
    }

    private static string ProviderLabel(ClassifiedEtcdValue value) => value.Kind switch
    {
        EtcdValueKind.Identity => "identity (plaintext)",
        EtcdValueKind.KmsV1 => $"kms v1 {value.Name}",
        EtcdValueKind.KmsV2 => $"kms v2 {value.Name}",
        EtcdValueKind.AesCbc => $"aescbc {value.Name}",
        EtcdValueKind.AesGcm => $"aesgcm {value.Name}",
        EtcdValueKind.Secretbox => $"secretbox {value.Name}",
        _ => "unknown k8s:enc: provider",
    };

    private static void Count(SortedDictionary<string, long> counts, string label) =>
        counts[label] = counts.GetValueOrDefault(label) + 1;
}
