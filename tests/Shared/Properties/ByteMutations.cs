using CsCheck;

namespace KmsPlugin.Tests.Shared.Properties;

/// <summary>
/// Generators of hostile input made from valid samples: bit flips, truncations, extensions,
/// overwritten, inserted and deleted runs, headers spliced onto another sample's body, and random
/// buffers up to <see cref="MaxRandomLength"/>. A mutant equal to a valid sample is never produced.
/// </summary>
internal static class ByteMutations
{
    public const int MaxRandomLength = 2048;

    /// <param name="valid">At least one well-formed input.</param>
    /// <param name="headerLength">Where a sample's header ends, for header splicing; null splices at random cuts.</param>
    public static Gen<Mutant> Of(IReadOnlyList<byte[]> valid, Func<byte[], int>? headerLength = null)
    {
        if (valid.Count == 0)
        {
            throw new ArgumentException("at least one valid sample is needed", nameof(valid));
        }

        var sample = Gen.Int[0, valid.Count - 1].Select(i => valid[i]);
        var mutants = Gen.Frequency(
            (4, sample.SelectMany(BitFlips)),
            (2, sample.SelectMany(Truncation)),
            (2, sample.SelectMany(Extension)),
            (2, sample.SelectMany(Overwrite)),
            (1, sample.SelectMany(Insertion)),
            (1, sample.SelectMany(Deletion)),
            (2, Gen.Select(sample, sample, Gen.Int, Gen.Int).Select((a, b, i, j) => Splice(a, b, i, j, headerLength))),
            (1, Random));
        return mutants.Where(m => !valid.Any(v => v.AsSpan().SequenceEqual(m.Bytes)));
    }

    public static Gen<Mutant> Random { get; } =
        Gen.Byte.Array[0, MaxRandomLength].Select(bytes => new Mutant("random buffer", bytes));

    private static Gen<Mutant> BitFlips(byte[] sample) =>
        sample.Length == 0
            ? Random
            : Gen.Int[0, sample.Length * 8 - 1].Array[1, 8].Select(bits =>
            {
                var bytes = (byte[])sample.Clone();
                foreach (var bit in bits)
                {
                    bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                }

                return new Mutant($"bits {string.Join(',', bits)} flipped", bytes);
            });

    private static Gen<Mutant> Truncation(byte[] sample) =>
        sample.Length == 0
            ? Random
            : Gen.Int[0, sample.Length - 1].Select(length => new Mutant($"truncated to {length}", sample[..length]));

    private static Gen<Mutant> Extension(byte[] sample) =>
        Gen.Byte.Array[1, 64].Select(tail => new Mutant($"extended by {tail.Length}", [.. sample, .. tail]));

    private static Gen<Mutant> Overwrite(byte[] sample) =>
        sample.Length == 0
            ? Random
            : Gen.Select(Gen.Int[0, sample.Length - 1], Gen.Byte.Array[1, 16]).Select((at, run) =>
            {
                var bytes = (byte[])sample.Clone();
                var length = Math.Min(run.Length, bytes.Length - at);
                run.AsSpan(0, length).CopyTo(bytes.AsSpan(at));
                return new Mutant($"{length} bytes overwritten at {at}", bytes);
            });

    private static Gen<Mutant> Insertion(byte[] sample) =>
        Gen.Select(Gen.Int[0, sample.Length], Gen.Byte.Array[1, 16]).Select((at, run) =>
            new Mutant($"{run.Length} bytes inserted at {at}", [.. sample.AsSpan(0, at), .. run, .. sample.AsSpan(at)]));

    private static Gen<Mutant> Deletion(byte[] sample) =>
        sample.Length == 0
            ? Random
            : Gen.Select(Gen.Int[0, sample.Length - 1], Gen.Int[1, 16]).Select((at, count) =>
            {
                count = Math.Min(count, sample.Length - at);
                return new Mutant($"{count} bytes deleted at {at}", [.. sample.AsSpan(0, at), .. sample.AsSpan(at + count)]);
            });

    /// <summary>The head of <paramref name="a"/> (its header, or a random cut) followed by the body of <paramref name="b"/>.</summary>
    private static Mutant Splice(byte[] a, byte[] b, int cutA, int cutB, Func<byte[], int>? headerLength)
    {
        int headA, headB;
        if (headerLength is not null)
        {
            headA = headerLength(a);
            headB = headerLength(b);
        }
        else
        {
            headA = (int)((uint)cutA % (a.Length + 1));
            headB = (int)((uint)cutB % (b.Length + 1));
        }

        return new Mutant($"head ({headA} bytes) of one sample spliced onto the body (from {headB}) of another", [.. a.AsSpan(0, headA), .. b.AsSpan(headB)]);
    }
}
