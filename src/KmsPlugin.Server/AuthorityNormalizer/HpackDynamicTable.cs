namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of entries, newest at index 0, whose size
/// (sum of name + value + 32 per entry) never exceeds <see cref="MaxSize"/>.
/// </summary>
internal sealed class HpackDynamicTable
{
    /// <summary>The per-entry overhead of RFC 7541 §4.1.</summary>
    public const int EntryOverhead = 32;

    private HeaderField[] _ring;
    private int _newest = -1; // ring index of the newest entry
    private int _count;

    public HpackDynamicTable(int maxSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        MaxSize = maxSize;
        _ring = new HeaderField[Math.Max(1, Math.Min(maxSize / EntryOverhead, 64))];
    }

    public int Count => _count;

    /// <summary>Current size in the RFC's accounting.</summary>
    public int Size { get; private set; }

    public int MaxSize { get; private set; }

    /// <summary>Entry by 0-based position, 0 = most recently inserted (wire index 62).</summary>
    public HeaderField this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count)
            {
                throw new ArgumentOutOfRangeException(nameof(index));
            }

            int slot = _newest - index;
            return _ring[slot < 0 ? slot + _ring.Length : slot];
        }
    }

    /// <summary>
    /// Copies the field into a new entry, evicting the oldest entries to make room. An entry larger
    /// than <see cref="MaxSize"/> empties the table and is not added (RFC 7541 §4.4).
    /// </summary>
    /// <returns>The stored field (whose memory stays valid after eviction).</returns>
    public HeaderField Insert(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed = false)
    {
        // One array per entry: name bytes then value bytes.
        byte[] bytes = new byte[name.Length + value.Length];
        name.CopyTo(bytes);
        value.CopyTo(bytes.AsSpan(name.Length));
        var field = new HeaderField(bytes.AsMemory(0, name.Length), bytes.AsMemory(name.Length), neverIndexed);

        int entrySize = field.Size;
        if (entrySize > MaxSize)
        {
            EvictUntil(0);
            return field;
        }

        EvictUntil(MaxSize - entrySize);
        if (_count == _ring.Length)
        {
            Grow();
        }

        _newest = (_newest + 1) % _ring.Length;
        _ring[_newest] = field;
        _count++;
        Size += entrySize;
        return field;
    }

    /// <summary>Applies a dynamic table size update (RFC 7541 §4.3, §6.3); the caller checks the bound.</summary>
    public void SetMaxSize(int maxSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        MaxSize = maxSize;
        EvictUntil(maxSize);
    }

    private void EvictUntil(int targetSize)
    {
        while (Size > targetSize)
        {
            int oldest = _newest - (_count - 1);
            if (oldest < 0)
            {
                oldest += _ring.Length;
            }

            Size -= _ring[oldest].Size;
            _ring[oldest] = default;
            _count--;
        }
    }

    private void Grow()
    {
        var bigger = new HeaderField[_ring.Length * 2];
        for (int i = 0; i < _count; i++)
        {
            // Oldest first, so the newest lands at _count - 1.
            bigger[i] = this[_count - 1 - i];
        }

        _ring = bigger;
        _newest = _count - 1;
    }
}
