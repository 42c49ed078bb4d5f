namespace KmsPlugin.LoadGen.Transport;

/// <summary>Sets the Host header, which SocketsHttpHandler sends as the HTTP/2 <c>:authority</c>.</summary>
internal sealed class AuthorityHandler(string host, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Host = host;
        return base.SendAsync(request, cancellationToken);
    }
}
