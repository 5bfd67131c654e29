namespace Yarp.Tunnels.Tunneling;

/// <summary>How an HTTP/1.1 response body is delimited (RFC 9112 §6.3).</summary>
internal enum Http1BodyFraming
{
    /// <summary><c>Transfer-Encoding: chunked</c>: chunks, a last chunk, then trailers.</summary>
    Chunked,

    /// <summary><c>Content-Length</c>: exactly that many bytes.</summary>
    Length,

    /// <summary>Neither: the body ends when the server closes the connection.</summary>
    Close,
}
