namespace KmsPlugin.Core.Envelope;

/// <summary>Views into a parsed envelope; see <see cref="EnvelopeFormat"/> for the layout.</summary>
internal readonly ref struct EnvelopeParts
{
    private readonly ReadOnlySpan<byte> _envelope;
    private readonly int _contextLength;
    private readonly int _headerLength;

    public EnvelopeParts(ReadOnlySpan<byte> envelope, int contextLength, int headerLength)
    {
        _envelope = envelope;
        _contextLength = contextLength;
        _headerLength = headerLength;
    }

    public ReadOnlySpan<byte> KeyId => _envelope.Slice(2, _contextLength - 2);

    public ReadOnlySpan<byte> WrapContext => _envelope[.._contextLength];

    public ReadOnlySpan<byte> WrappedKey => _envelope[(_contextLength + 2).._headerLength];

    public ReadOnlySpan<byte> Header => _envelope[.._headerLength];

    public ReadOnlySpan<byte> Nonce => _envelope.Slice(_headerLength, EnvelopeFormat.NonceSize);

    public ReadOnlySpan<byte> Ciphertext =>
        _envelope[(_headerLength + EnvelopeFormat.NonceSize)..^EnvelopeFormat.TagSize];

    public ReadOnlySpan<byte> Tag => _envelope[^EnvelopeFormat.TagSize..];
}
