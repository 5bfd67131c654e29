using System.Buffers;
using System.Net;
using System.Net.Http;
using System.Text;
using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Tunneling;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// The HTTP/1.1 upgrade handshake on a backend connection the upgrade forwarder opened itself: writes the request head
/// (after YARP's transforms) and reads the answer's head, so once the backend switched the connection's bytes go to the
/// relay as they are, with no HTTP client in between. Only what an upgrade needs: one request without a body, one
/// response whose body (when it is not a 101) is read with its own framing. The head reader and body decoding are the
/// HTTP/1.1 tunnels' (<see cref="Http1HeadReader"/>, <see cref="Http1PostRelayEnd"/>).
/// </summary>
internal static class Http1UpgradeExchange
{
    /// <summary>The request head of <paramref name="request"/> (method, path and query of its URI, Host, headers).</summary>
    /// <exception cref="HttpRequestException">A header name or value that cannot be sent (a transform put a line break in it).</exception>
    public static byte[] FormatRequest(HttpRequestMessage request)
    {
        var method = request.Method.Method;
        var uri = request.RequestUri ?? throw new HttpRequestException("The upgrade request has no destination URI.");
        var head = new StringBuilder(256);
        head.Append(method).Append(' ').Append(uri.PathAndQuery).Append(" HTTP/1.1\r\n");
        var host = request.Headers.Host ?? (uri.IsDefaultPort ? uri.IdnHost : $"{uri.IdnHost}:{uri.Port}");
        AppendHeader(head, "Host", host);
        foreach (var (name, values) in request.Headers.NonValidated)
        {
            if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            // RFC 6265 §5.4: one Cookie header, its pairs joined by "; " (as SocketsHttpHandler sends it).
            var separator = string.Equals(name, "Cookie", StringComparison.OrdinalIgnoreCase) ? "; " : ", ";
            AppendHeader(head, name, values.Count == 1 ? values.ToString() : string.Join(separator, values));
        }
        head.Append("\r\n");
        return Encoding.Latin1.GetBytes(head.ToString());
    }

    /// <summary>
    /// Reads the backend's answer with the tunnels' strict head reader (<see cref="Http1HeadReader"/>; interim 1xx
    /// skipped) and returns it as an <see cref="HttpResponseMessage"/>, with the end to go on with: for a 101 the
    /// connection (bytes the backend sent with its 101 first), for any other answer its body decoded by its framing
    /// (<see cref="Http1PostRelayEnd"/>), which is also the response's content. The returned end owns the connection.
    /// </summary>
    /// <exception cref="HttpRequestException">The connection ended before a complete head, or the head or its framing is malformed.</exception>
    public static async ValueTask<(HttpResponseMessage Response, RelayEnd Connection)> ReadResponseAsync(RelayEnd connection, CancellationToken cancellationToken)
    {
        var read = await Http1HeadReader.ReadAsync(connection, cancellationToken).ConfigureAwait(false);
        if (read.Head is not { } head)
        {
            throw new HttpRequestException(read.Error is { } error
                ? $"The backend's response is malformed: {error}."
                : "The backend closed the connection before a complete response head.");
        }
        var response = new HttpResponseMessage((HttpStatusCode)head.Status) { Version = HttpVersion.Version11, ReasonPhrase = head.Reason };
        var contentHeaders = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in head.Headers)
        {
            if (!response.Headers.TryAddWithoutValidation(name, value))
            {
                contentHeaders.Add(new(name, value));
            }
        }
        if (head.Status == StatusCodes.Status101SwitchingProtocols)
        {
            response.Content = WithHeaders(new HeadOnlyContent(), contentHeaders);
            return (response, read.Payload is { } early ? new PrefixedRelayEnd(connection, early, read.PayloadStart, read.PayloadEnd) : connection);
        }

        // RFC 9112 §6.3: 204 and 304 have no body whatever their headers say.
        var framing = Http1BodyFraming.Length;
        long length = 0;
        string? framingError = null;
        if (head.Status is not (StatusCodes.Status204NoContent or StatusCodes.Status304NotModified)
            && !Http1TunnelOpener.TryGetFraming(head, out framing, out length, out framingError))
        {
            response.Dispose();
            if (read.Payload is { } payload)
            {
                ArrayPool<byte>.Shared.Return(payload);
            }
            throw new HttpRequestException($"The backend's response is malformed: {framingError}.");
        }
        response.Headers.TransferEncoding.Clear();
        if (framing != Http1BodyFraming.Length)
        {
            contentHeaders.RemoveAll(h => string.Equals(h.Key, "Content-Length", StringComparison.OrdinalIgnoreCase));
        }
        var body = new Http1PostRelayEnd(connection, framing, length, read.Payload, read.PayloadStart, read.PayloadEnd);
        response.Content = WithHeaders(new StreamContent(new RelayEndStream(body)), contentHeaders);
        return (response, body);
    }

    private static HttpContent WithHeaders(HttpContent content, List<KeyValuePair<string, string>> headers)
    {
        foreach (var (name, value) in headers)
        {
            content.Headers.TryAddWithoutValidation(name, value);
        }
        return content;
    }

    private static void AppendHeader(StringBuilder head, string name, string value)
    {
        if (name.AsSpan().IndexOfAny("\r\n: ") >= 0 || value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new HttpRequestException($"The upgrade request header '{name.ReplaceLineEndings(" ")}' cannot be sent: a line break or separator in its name or value.");
        }
        head.Append(name).Append(": ").Append(value).Append("\r\n");
    }

    /// <summary>A 101's content: its headers only, with no length computed (so none is invented for the client).</summary>
    private sealed class HeadOnlyContent : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => Task.CompletedTask;

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private static string Truncate(string value) => (value.Length > 80 ? value[..80] + "…" : value).ReplaceLineEndings(" ");
}
