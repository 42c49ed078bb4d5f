using KmsPlugin.Core.Keys;

namespace KmsPlugin.Core.Envelope;

/// <summary>The DEK that currently seals new envelopes, with its precomputed header.</summary>
internal sealed class ActiveDataKey
{
    public long Uses;

    public ActiveDataKey(DataEncryptionKey key, PrimaryKeyEncryptionKey rootKey, byte[] header, long createdTimestamp)
    {
        Key = key;
        RootKey = rootKey;
        Header = header;
        CreatedTimestamp = createdTimestamp;
    }

    public DataEncryptionKey Key { get; }

    public PrimaryKeyEncryptionKey RootKey { get; }

    public byte[] Header { get; }

    public long CreatedTimestamp { get; }
}
