using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.Server.Etcd;

/// <summary>
/// Opens data keys in this process with root keys loaded from a backup (a keystore copy or a backup
/// token), through the same envelope code the plugin runs, so "the backup reads it" means what the
/// plugin would do with those keys. Nothing is written anywhere; the provider is disposed with it.
/// </summary>
internal sealed class BackupKeyChecker : DataKeyChecker
{
    private readonly IRootKeyProvider _rootKeys;
    private readonly EnvelopeEncryptor _envelopes;

    public BackupKeyChecker(IRootKeyProvider rootKeys, TimeSpan rootKeyTimeout)
    {
        _rootKeys = rootKeys;
        _envelopes = new EnvelopeEncryptor(rootKeys, new EnvelopeOptions { RootKeyCallTimeout = rootKeyTimeout }, TimeProvider.System);
    }

    protected override string MissingFrom => "in this backup";

    /// <summary>A backup has no "current" key: which of its keys wrote last says nothing about the cluster.</summary>
    public override Task<string?> PrimaryRootKeyAsync(CancellationToken cancellationToken) => Task.FromResult<string?>(null);

    /// <summary>
    /// Throws <see cref="KmsException"/> (<see cref="KmsErrorKind.ProviderUnavailable"/>) when the
    /// root keys cannot be used at all (a token gone): the drill could not run, which is not a finding.
    /// </summary>
    protected override async Task<OpenedDataKey> OpenDataKeyAsync(ParsedKmsValue value, CancellationToken cancellationToken)
    {
        var envelope = value.V1 is { } v1 ? v1.EncryptedDek : value.V2!.Object.EncryptedDekSource;
        try
        {
            if (value.V2 is { } v2 && KeyIdProblem(v2.Object.KeyId, envelope.Span) is { } keyIdProblem)
            {
                return OpenedDataKey.Refused(keyIdProblem, unknownRootKey: false);
            }

            return new(await _envelopes.DecryptAsync(envelope, cancellationToken), null, false);
        }
        catch (KmsException ex) when (ex.Kind == KmsErrorKind.KeyUnavailable)
        {
            return OpenedDataKey.Refused($"backup: {ex.Message}", unknownRootKey: true);
        }
        catch (KmsException ex) when (ex.Kind == KmsErrorKind.InvalidCiphertext)
        {
            return OpenedDataKey.Refused($"the backup's root key refused the encrypted DEK: {ex.Message}", unknownRootKey: false);
        }
    }

    protected override void DisposeSource()
    {
        _envelopes.Dispose();
        (_rootKeys as IDisposable)?.Dispose();
    }

    /// <summary>The plugin's v2 Decrypt rule: the key_id must be one it issued for the root key the ciphertext names.</summary>
    private static string? KeyIdProblem(string keyId, ReadOnlySpan<byte> envelope)
    {
        if (!PrimaryRootKey.TryParseKeyId(keyId, out var rootKeyId, out _))
        {
            return "the key_id was not issued by kms-plugin";
        }

        return rootKeyId == EnvelopeEncryptor.ReadRootKeyId(envelope) ? null : "the key_id does not match the root key named in the ciphertext";
    }
}
