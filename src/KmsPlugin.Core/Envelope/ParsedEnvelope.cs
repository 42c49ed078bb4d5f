namespace KmsPlugin.Core.Envelope;

/// <summary>
/// An envelope checked once, kept with its layout: the cache-miss path crosses an await, where
/// the span-based <see cref="EnvelopeParts"/> cannot go, and reads the parts again from here
/// without parsing the header again.
/// </summary>
internal readonly struct ParsedEnvelope
{
    private readonly EnvelopeLayout _layout;

    /// <summary>Throws <see cref="Errors.KmsException"/> for every malformed envelope; see <see cref="EnvelopeFormat.Measure"/>.</summary>
    public ParsedEnvelope(ReadOnlyMemory<byte> bytes)
    {
        _layout = EnvelopeFormat.Measure(bytes.Span);
        Bytes = bytes;
    }

    public ReadOnlyMemory<byte> Bytes { get; }

    public EnvelopeParts Parts => new(Bytes.Span, _layout);
}
