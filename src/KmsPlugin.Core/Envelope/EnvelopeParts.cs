namespace KmsPlugin.Core.Envelope;

/// <summary>Views into a parsed envelope; see <see cref="EnvelopeFormat"/> for the layout.</summary>
internal readonly ref struct EnvelopeParts
{
    private readonly ReadOnlySpan<byte> _envelope;
    private readonly int _contextLength;
    private readonly int _headerLength;

    /// <summary><paramref name="layout"/> must come from <see cref="EnvelopeFormat.Measure"/> of the same bytes.</summary>
    public EnvelopeParts(ReadOnlySpan<byte> envelope, EnvelopeLayout layout)
    {
        _envelope = envelope;
        _contextLength = layout.ContextLength;
        _headerLength = layout.HeaderLength;
    }

    public ReadOnlySpan<byte> KeyId => _envelope.Slice(2, _contextLength - 2);

    public ReadOnlySpan<byte> WrapContext => _envelope[.._contextLength];

    public ReadOnlySpan<byte> WrappedKey => _envelope[(_contextLength + 2).._headerLength];

    public ReadOnlySpan<byte> Header => _envelope[.._headerLength];

    /// <summary>nonce | ciphertext | tag, as <see cref="Crypto.AesGcmSealer"/> lays it out.</summary>
    public ReadOnlySpan<byte> Sealed => _envelope[_headerLength..];
}
