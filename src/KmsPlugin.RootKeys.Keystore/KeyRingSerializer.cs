using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>
/// The sealed part of a keystore file, binary so that key material never passes through strings that
/// cannot be zeroed:
/// <code>
/// count (2, BE) | per key: id length (1) | id (ASCII) | state (1) | created (8, BE, Unix ms)
///               | has expiry (1) | expires (8, BE, Unix ms, 0 without expiry) | material (32)
/// | promotion generation (8, BE)
/// | promotions (2, BE) | per promotion: generation (8, BE) | index of the key in the list above (2, BE)
/// </code>
/// Rings written before promotions were recorded end after the generation; they read as a ring that
/// knows only its current primary's generation (see <see cref="KeyRing.Issued"/>).
/// </summary>
internal static class KeyRingSerializer
{
    private const int FixedPerKey = 1 + 1 + 8 + 1 + 8 + KeystoreRootKey.KeySize;
    private const int PerPromotion = 8 + 2;

    // Explicit codes so that reordering the KeyState enum can never change what a file means.
    private const byte StatePrimary = 1;
    private const byte StateDecryptOnly = 2;
    private const byte StateDisabled = 3;

    /// <summary>The serialized ring in a pinned array; the caller zeroes it.</summary>
    public static byte[] Serialize(KeyRing ring)
    {
        var size = 2 + ring.Entries.Sum(e => FixedPerKey + e.Id.Length) + 8 + 2 + (ring.Promotions.Count * PerPromotion);
        var output = GC.AllocateArray<byte>(size, pinned: true);
        var span = output.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(span, checked((ushort)ring.Entries.Count));
        var offset = 2;
        foreach (var entry in ring.Entries)
        {
            var info = entry.Info;
            span[offset++] = checked((byte)info.Id.Length);
            offset += Encoding.ASCII.GetBytes(info.Id, span[offset..]);
            span[offset++] = info.State switch
            {
                KeyState.Primary => StatePrimary,
                KeyState.DecryptOnly => StateDecryptOnly,
                KeyState.Disabled => StateDisabled,
                _ => throw new InvalidOperationException($"unknown key state {info.State}"),
            };
            BinaryPrimitives.WriteInt64BigEndian(span[offset..], info.CreatedAt.ToUnixTimeMilliseconds());
            offset += 8;
            span[offset++] = info.ExpiresAt is null ? (byte)0 : (byte)1;
            BinaryPrimitives.WriteInt64BigEndian(span[offset..], info.ExpiresAt?.ToUnixTimeMilliseconds() ?? 0);
            offset += 8;
            entry.Material.CopyTo(span[offset..]);
            offset += entry.Material.Length;
        }

        BinaryPrimitives.WriteInt64BigEndian(span[offset..], ring.Generation);
        offset += 8;
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], checked((ushort)ring.Promotions.Count));
        offset += 2;
        var indexOf = ring.Entries.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
        foreach (var (generation, id) in ring.Promotions)
        {
            BinaryPrimitives.WriteInt64BigEndian(span[offset..], generation);
            BinaryPrimitives.WriteUInt16BigEndian(span[(offset + 8)..], checked((ushort)indexOf[id]));
            offset += PerPromotion;
        }

        return output;
    }

    /// <summary>
    /// Parses an authenticated ring. Because the bytes were authenticated, a failure here means a
    /// bug or a file written by an incompatible version, never tampering; the reason names no secret.
    /// </summary>
    public static KeyRing Deserialize(ReadOnlySpan<byte> data)
    {
        var entries = new List<KeyRingEntry>();
        try
        {
            var reader = new Reader(data);
            int count = reader.UInt16();
            for (var i = 0; i < count; i++)
            {
                int idLength = reader.Byte();
                var id = Encoding.ASCII.GetString(reader.Bytes(idLength));
                var state = reader.Byte() switch
                {
                    StatePrimary => KeyState.Primary,
                    StateDecryptOnly => KeyState.DecryptOnly,
                    StateDisabled => KeyState.Disabled,
                    var other => throw new FormatException($"unknown key state code {other}"),
                };
                var created = DateTimeOffset.FromUnixTimeMilliseconds(reader.Int64());
                var hasExpiry = reader.Byte() switch
                {
                    0 => false,
                    1 => true,
                    _ => throw new FormatException("bad expiry flag"),
                };
                var expiresMs = reader.Int64();
                var material = GC.AllocateArray<byte>(KeystoreRootKey.KeySize, pinned: true);
                reader.Bytes(material.Length).CopyTo(material);
                entries.Add(new KeyRingEntry(
                    new KeystoreKeyInfo(id, state, created, hasExpiry ? DateTimeOffset.FromUnixTimeMilliseconds(expiresMs) : null),
                    material));
            }

            var generation = reader.Int64();
            var promotions = reader.AtEnd ? [] : ReadPromotions(ref reader, entries);
            if (!reader.AtEnd)
            {
                throw new FormatException("trailing bytes after the promotions");
            }

            return new KeyRing(entries, generation, promotions);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            foreach (var entry in entries)
            {
                CryptographicOperations.ZeroMemory(entry.Material);
            }

            throw new FormatException($"key ring is malformed: {e.Message}", e);
        }
    }

    private static List<KeyValuePair<long, string>> ReadPromotions(ref Reader reader, List<KeyRingEntry> entries)
    {
        int count = reader.UInt16();
        var promotions = new List<KeyValuePair<long, string>>(count);
        for (var i = 0; i < count; i++)
        {
            var generation = reader.Int64();
            int index = reader.UInt16();
            if (index >= entries.Count)
            {
                throw new FormatException($"promotion {generation} names key {index} of {entries.Count}");
            }

            promotions.Add(new(generation, entries[index].Id));
        }

        return promotions;
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public readonly bool AtEnd => _rest.IsEmpty;

        public ReadOnlySpan<byte> Bytes(int count)
        {
            if (_rest.Length < count)
            {
                throw new FormatException("key ring is truncated");
            }

            var taken = _rest[..count];
            _rest = _rest[count..];
            return taken;
        }

        public byte Byte() => Bytes(1)[0];

        public ushort UInt16() => BinaryPrimitives.ReadUInt16BigEndian(Bytes(2));

        public long Int64() => BinaryPrimitives.ReadInt64BigEndian(Bytes(8));
    }
}
