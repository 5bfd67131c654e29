using System.Buffers;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// The HTTP/1.1 upgrade handshake on a backend connection the upgrade forwarder opened itself: writes the request head
/// (after YARP's transforms) and reads the answer's head, so once the backend switched the connection's bytes go to the
/// relay as they are, with no HTTP client in between. Only what an upgrade needs: one request without a body, one
/// response whose body (when it is not a 101) is read with its own framing (<see cref="Http1ResponseBody"/>).
/// </summary>
internal static class Http1UpgradeExchange
{
    /// <summary>The most a response head may take (status line and headers); larger heads fail the upgrade.</summary>
    public const int MaxResponseHeadBytes = 64 * 1024;

    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

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
    /// Reads the backend's answer: interim 1xx answers other than 101 are skipped; the final head becomes an
    /// <see cref="HttpResponseMessage"/> (its body, unless it is a 101, read from <paramref name="connection"/>), and
    /// what the backend sent after the head is returned as <c>Early</c> (a 101's first upgraded bytes).
    /// </summary>
    /// <exception cref="HttpRequestException">The connection ended before a complete head, or the head is malformed or too large.</exception>
    public static async ValueTask<(HttpResponseMessage Response, byte[] Early)> ReadResponseAsync(RelayEnd connection, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var filled = 0;
        try
        {
            while (true)
            {
                var end = buffer.AsSpan(0, filled).IndexOf(EndOfHead);
                if (end >= 0)
                {
                    var headLength = end + EndOfHead.Length;
                    var (response, contentHeaders) = ParseHead(buffer.AsSpan(0, headLength));
                    buffer.AsSpan(headLength, filled - headLength).CopyTo(buffer);
                    filled -= headLength;
                    if (response.StatusCode != HttpStatusCode.SwitchingProtocols && (int)response.StatusCode < 200)
                    {
                        // 100 Continue, 103 Early Hints…: the final answer follows.
                        response.Dispose();
                        continue;
                    }
                    var early = buffer.AsSpan(0, filled).ToArray();
                    try
                    {
                        response.Content = CreateContent(response, contentHeaders, connection, early);
                    }
                    catch
                    {
                        response.Dispose();
                        throw;
                    }
                    return (response, response.StatusCode == HttpStatusCode.SwitchingProtocols ? early : []);
                }
                if (filled == buffer.Length)
                {
                    if (buffer.Length >= MaxResponseHeadBytes)
                    {
                        throw new HttpRequestException($"The backend's response head is larger than {MaxResponseHeadBytes} bytes.");
                    }
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await connection.ReadAsync(buffer.AsMemory(filled, Math.Min(buffer.Length, MaxResponseHeadBytes) - filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new HttpRequestException("The backend closed the connection before a complete response head.");
                }
                filled += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void AppendHeader(StringBuilder head, string name, string value)
    {
        if (name.AsSpan().IndexOfAny("\r\n: ") >= 0 || value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new HttpRequestException($"The upgrade request header '{name.ReplaceLineEndings(" ")}' cannot be sent: a line break or separator in its name or value.");
        }
        head.Append(name).Append(": ").Append(value).Append("\r\n");
    }

    /// <summary>RFC 9112 §4 and §5: <c>HTTP/1.x SP 3DIGIT SP reason</c>, then <c>name: value</c> lines (no folding, no space before the colon).</summary>
    private static (HttpResponseMessage Response, List<KeyValuePair<string, string>> ContentHeaders) ParseHead(ReadOnlySpan<byte> head)
    {
        var text = Encoding.Latin1.GetString(head[..^EndOfHead.Length]);
        var lines = text.Split("\r\n");
        var status = lines[0];
        if (status.Length < 12 || !status.StartsWith("HTTP/1.", StringComparison.Ordinal) || status[8] != ' '
            || !int.TryParse(status.AsSpan(9, 3), System.Globalization.NumberStyles.None, null, out var code) || code < 100
            || (status.Length > 12 && status[12] != ' '))
        {
            throw new HttpRequestException($"The backend sent a malformed status line: '{Truncate(status)}'.");
        }
        var response = new HttpResponseMessage((HttpStatusCode)code)
        {
            Version = status[7] == '0' ? HttpVersion.Version10 : HttpVersion.Version11,
            ReasonPhrase = status.Length > 13 ? status[13..] : null,
        };
        var contentHeaders = new List<KeyValuePair<string, string>>();
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i];
            var colon = line.IndexOf(':');
            if (colon <= 0 || line.AsSpan(0, colon).IndexOfAny(' ', '\t') >= 0)
            {
                response.Dispose();
                throw new HttpRequestException($"The backend sent a malformed header line: '{Truncate(line)}'.");
            }
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (!response.Headers.TryAddWithoutValidation(name, value))
            {
                contentHeaders.Add(new(name, value));
            }
        }
        return (response, contentHeaders);
    }

    /// <summary>
    /// The content of the final answer: a 101 has no body; otherwise RFC 9112 §6.3: none for 204 and 304, chunked when
    /// the last transfer coding is, else Content-Length, else until the backend closes.
    /// </summary>
    private static HttpContent CreateContent(HttpResponseMessage response, List<KeyValuePair<string, string>> contentHeaders, RelayEnd connection, byte[] early)
    {
        var code = (int)response.StatusCode;
        long? length = code is 101 or 204 or 304 ? 0 : null;
        var chunked = false;
        if (length is null && response.Headers.TransferEncoding.Count > 0)
        {
            chunked = string.Equals(response.Headers.TransferEncoding.Last().Value, "chunked", StringComparison.OrdinalIgnoreCase);
            response.Headers.TransferEncoding.Clear();
            // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length.
            contentHeaders.RemoveAll(h => string.Equals(h.Key, "Content-Length", StringComparison.OrdinalIgnoreCase));
        }
        else if (length is null && contentHeaders.Where(h => string.Equals(h.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
            .SelectMany(h => h.Value.Split(',')).Select(v => v.Trim()).Distinct().ToArray() is { Length: > 0 } lengths)
        {
            if (lengths.Length != 1 || !long.TryParse(lengths[0], System.Globalization.NumberStyles.None, null, out var parsed))
            {
                throw new HttpRequestException($"The backend sent an invalid Content-Length: '{Truncate(string.Join(", ", lengths))}'.");
            }
            length = parsed;
        }
        HttpContent content = code == 101 ? new HeadOnlyContent() : new StreamContent(new Http1ResponseBody(connection, early, length, chunked));
        foreach (var (name, value) in contentHeaders)
        {
            content.Headers.TryAddWithoutValidation(name, value);
        }
        return content;
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
