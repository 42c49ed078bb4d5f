namespace KmsPlugin.Core.Envelope;

/// <summary>Where an envelope's wrap context and header end, as <see cref="EnvelopeFormat"/> measured them.</summary>
internal readonly record struct EnvelopeLayout(int ContextLength, int HeaderLength);
