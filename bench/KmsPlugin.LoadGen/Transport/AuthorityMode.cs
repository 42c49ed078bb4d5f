namespace KmsPlugin.LoadGen.Transport;

/// <summary>Which HTTP/2 <c>:authority</c> the client sends, as kube-apiserver's clients differ.</summary>
internal enum AuthorityMode
{
    /// <summary>kube-apiserver's KMS v2 client since 1.32.</summary>
    Localhost,

    /// <summary>The socket path itself: kube-apiserver's KMS v1 client, and v2 before 1.32. The plugin's normalizer rewrites it.</summary>
    SocketPath,

    /// <summary>The socket path with every '/' as %2F, as newer grpc-go sends its default authority. The plugin's normalizer rewrites it.</summary>
    PercentEncoded,
}
