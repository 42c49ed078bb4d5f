using System.Buffers;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>An append-only byte buffer rented from <see cref="ArrayPool{T}.Shared"/>, reused after <see cref="Clear"/>.</summary>
internal sealed class PooledByteBuffer : IDisposable
{
    private byte[] _array = [];

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, Length);

    public void Append(in ReadOnlySequence<byte> bytes)
    {
        int length = checked((int)bytes.Length);
        EnsureCapacity(length);
        bytes.CopyTo(_array.AsSpan(Length));
        Length += length;
    }

    public void Clear() => Length = 0;

    public void Dispose()
    {
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }

        Length = 0;
    }

    private void EnsureCapacity(int extra)
    {
        if (_array.Length - Length >= extra)
        {
            return;
        }

        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(checked(Length + extra), Math.Max(_array.Length * 2, 4096)));
        _array.AsSpan(0, Length).CopyTo(bigger);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = bigger;
    }
}
