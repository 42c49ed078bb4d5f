namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// One decoded header field. The memory points into the static table, a dynamic table entry, the
/// decoded block or the decoder's scratch buffer, so it is only valid until the next decode call.
/// </summary>
internal readonly struct HeaderField
{
    public HeaderField(ReadOnlyMemory<byte> name, ReadOnlyMemory<byte> value, bool neverIndexed = false)
    {
        Name = name;
        Value = value;
        NeverIndexed = neverIndexed;
    }

    public ReadOnlyMemory<byte> Name { get; }

    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>Sent as "literal never indexed" (RFC 7541 §6.2.3); a re-encoder must keep that.</summary>
    public bool NeverIndexed { get; }

    /// <summary>RFC 7541 §4.1: name length + value length + 32.</summary>
    public int Size => Name.Length + Value.Length + HpackDynamicTable.EntryOverhead;
}
