namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>How <see cref="AuthorityNormalizingProcessor"/> treats the input; see <see cref="AuthorityNormalizingConnection"/>.</summary>
internal enum NormalizerMode
{
    Preface,
    PassThrough,
    Rewrite,
    Opaque,
    Refused,
}
