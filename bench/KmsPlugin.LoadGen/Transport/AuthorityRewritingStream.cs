using System.Buffers;

namespace KmsPlugin.LoadGen.Transport;

/// <summary>
/// Puts the socket path on the wire as <c>:authority</c>, as kube-apiserver's KMS v1 client does.
/// SocketsHttpHandler refuses a Host header that is not a valid host (a path is not), so the
/// client sends a placeholder host of the same length and this stream swaps the bytes on the way
/// out. That is safe because .NET's HTTP/2 client writes <c>:authority</c> as a plain (never
/// Huffman-coded, never indexed) literal: same length, same frame sizes, no HPACK state touched.
/// </summary>
internal sealed class AuthorityRewritingStream(Stream inner, byte[] placeholder, byte[] authority) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>A host SocketsHttpHandler accepts, as long as the authority to send and unlikely to occur in a payload.</summary>
    public static string PlaceholderFor(string authority)
    {
        const string Marker = "kmsloadgenauthority";
        if (authority.Length < 12)
        {
            throw new ArgumentException($"socket path {authority} is too short to stand in for as :authority (12 characters at least)");
        }

        return authority.Length <= Marker.Length ? Marker[..authority.Length] : Marker + new string('x', authority.Length - Marker.Length);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Span.IndexOf(placeholder) < 0)
        {
            return inner.WriteAsync(buffer, cancellationToken);
        }

        return WriteRewrittenAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();

    private async ValueTask WriteRewrittenAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        var copy = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            buffer.CopyTo(copy);
            var span = copy.AsSpan(0, buffer.Length);
            for (int at; (at = span.IndexOf(placeholder)) >= 0; span = span[(at + placeholder.Length)..])
            {
                authority.CopyTo(span[at..]);
            }

            await inner.WriteAsync(copy.AsMemory(0, buffer.Length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }
}
