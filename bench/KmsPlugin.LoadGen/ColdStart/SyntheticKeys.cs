using System.Buffers.Binary;
using System.Security.Cryptography;

namespace KmsPlugin.LoadGen.ColdStart;

/// <summary>
/// The N distinct 32-byte "kube-apiserver DEKs" of a cold-start run, derived from a per-run
/// random seed (HMAC-SHA256(seed, i)), so the ciphertext file never holds a plaintext and the
/// decrypt phase can still check every answer. They are benchmark data, never real keys.
/// </summary>
internal sealed class SyntheticKeys(byte[] seed)
{
    public const int Size = 32;

    public byte[] Seed => seed;

    public static SyntheticKeys CreateRandom() => new(RandomNumberGenerator.GetBytes(32));

    public byte[] Key(int index)
    {
        Span<byte> counter = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(counter, index);
        return HMACSHA256.HashData(seed, counter);
    }
}
