using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.Core.Envelope;

/// <summary>The DEK that currently seals new envelopes, with its precomputed header.</summary>
internal sealed class ActiveDataKey
{
    public long Uses;

    public ActiveDataKey(DataEncryptionKey key, PrimaryRootKey rootKey, byte[] header, long createdTimestamp)
    {
        Key = key;
        RootKey = rootKey;
        Header = header;
        CreatedTimestamp = createdTimestamp;
    }

    public DataEncryptionKey Key { get; }

    public PrimaryRootKey RootKey { get; }

    public byte[] Header { get; }

    public long CreatedTimestamp { get; }
}
