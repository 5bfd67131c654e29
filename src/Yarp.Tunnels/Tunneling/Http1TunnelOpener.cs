using System.Buffers;
using System.Globalization;
using System.Net.Security;
using System.Text;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling;

/// <summary>
/// Opens tunnels over HTTP/1.1, one upstream connection (TCP, TLS, or an internal listener) per tunnel:
/// <c>CONNECT host:port HTTP/1.1</c>, any 2xx establishes it and the connection then carries the payload (a half-close
/// half-closes the connection); or a <c>POST</c> with a chunked request body and a streamed response body
/// (<see cref="Http1PostRelayEnd"/>). The response head is read strictly (<see cref="Http1ResponseHead"/>) and a
/// refusing answer's body is never relayed.
/// </summary>
internal sealed class Http1TunnelOpener(TcpProxyServices services) : ITunnelOpener
{
    public async ValueTask<TunnelOpenResult> OpenAsync(UpstreamRequest request, TunnelHead head, TunnelTransportOptions transport, CancellationToken cancellationToken)
    {
        var connection = await services.Connectors.Select(request).ConnectAsync(request, cancellationToken).ConfigureAwait(false);
        if (connection.End is not { } raw)
        {
            return TunnelOpenResult.Failed(TunnelFailure.Connect, connection.Reason ?? connection.Failure.ToString());
        }

        // The connect timeout bounds the whole establishment: TLS handshake and the proxy's answer too.
        using var timeout = new CancellationTokenSource(request.ConnectTimeout, services.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        var end = raw;
        var established = false;
        try
        {
            if (transport.UseTls)
            {
                var tls = new SslStream(new RelayEndStream(raw));
                try
                {
                    await tls.AuthenticateAsClientAsync(TlsOptions(request, transport, SslApplicationProtocol.Http11), linked.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    await tls.DisposeAsync().ConfigureAwait(false);
                    return TunnelOpenResult.Failed(TunnelFailure.Connect, $"the TLS handshake with '{request.Address}' failed: {ex.Message}");
                }
                end = new TlsRelayEnd(tls, raw);
            }

            var result = await SendAndReadHeadAsync(end, head, linked.Token).ConfigureAwait(false);
            established = result.Stream is not null;
            return result;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return TunnelOpenResult.Failed(TunnelFailure.Connect, $"'{request.Address}' did not establish the tunnel within {request.ConnectTimeout}.");
        }
        finally
        {
            if (!established)
            {
                await end.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask<TunnelOpenResult> SendAndReadHeadAsync(RelayEnd end, TunnelHead head, CancellationToken cancellationToken)
    {
        Http1HeadRead read;
        try
        {
            await end.WriteAsync(Encode(head), cancellationToken).ConfigureAwait(false);
            read = await Http1HeadReader.ReadAsync(end, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return TunnelOpenResult.Failed(TunnelFailure.Reset, $"the upstream failed before answering: {ex.Message}");
        }

        if (read.Head is not { } response)
        {
            return read.Error is { } error
                ? TunnelOpenResult.Failed(TunnelFailure.Protocol, $"malformed response: {error}")
                : TunnelOpenResult.Failed(TunnelFailure.Reset, "the upstream closed the connection before answering");
        }
        if (response.Status is < 200 or > 299)
        {
            ReturnPayload(read);
            return TunnelOpenResult.Failed(TunnelFailure.Status, response.Reason, response.Status, response.Headers);
        }

        if (head.Path is null)
        {
            // CONNECT: Content-Length and Transfer-Encoding of a 2xx are ignored (RFC 9110 §9.3.6); what follows is payload.
            RelayEnd stream = read.Payload is { } early ? new PrefixedRelayEnd(end, early, read.PayloadStart, read.PayloadEnd) : end;
            return new TunnelOpenResult(stream, TunnelFailure.None, response.Status, response.Reason, response.Headers, Task.FromResult(TunnelOpenResult.NoHeaders));
        }

        if (!TryGetFraming(response, out var framing, out var length, out var framingError))
        {
            ReturnPayload(read);
            return TunnelOpenResult.Failed(TunnelFailure.Protocol, framingError!, response.Status, response.Headers);
        }
        var post = new Http1PostRelayEnd(end, framing, length, read.Payload, read.PayloadStart, read.PayloadEnd);
        return new TunnelOpenResult(post, TunnelFailure.None, response.Status, response.Reason, response.Headers, post.Trailers);
    }

    private static void ReturnPayload(Http1HeadRead read)
    {
        if (read.Payload is { } payload)
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }

    /// <summary>The response body's framing (RFC 9112 §6.3): chunked wins, then Content-Length, else until close.</summary>
    internal static bool TryGetFraming(Http1ResponseHead response, out Http1BodyFraming framing, out long length, out string? error)
    {
        length = 0;
        error = null;
        if (response.Get("Transfer-Encoding") is { } encoding)
        {
            framing = Http1BodyFraming.Chunked;
            if (!encoding.Split(',').Last().Trim().Equals("chunked", StringComparison.OrdinalIgnoreCase))
            {
                error = $"unsupported response Transfer-Encoding '{encoding}'";
                return false;
            }
            return true;
        }
        if (response.Get("Content-Length") is { } contentLength)
        {
            framing = Http1BodyFraming.Length;
            if (!long.TryParse(contentLength, NumberStyles.None, CultureInfo.InvariantCulture, out length))
            {
                error = $"malformed response Content-Length '{contentLength}'";
                return false;
            }
            return true;
        }
        framing = Http1BodyFraming.Close;
        return true;
    }

    private static byte[] Encode(TunnelHead head)
    {
        var text = new StringBuilder();
        text.Append(head.Method).Append(' ').Append(head.Path ?? head.Authority).Append(" HTTP/1.1\r\nHost: ").Append(head.Authority).Append("\r\n");
        if (head.Path is not null)
        {
            text.Append("Transfer-Encoding: chunked\r\n");
        }
        foreach (var (name, value) in head.Headers)
        {
            text.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        text.Append("\r\n");
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    /// <summary>The TLS client settings of the hop to the proxy (shared with the HTTP/2 opener, which asks ALPN for h2).</summary>
    internal static SslClientAuthenticationOptions TlsOptions(UpstreamRequest request, TunnelTransportOptions transport, SslApplicationProtocol alpn)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = transport.TlsServerName ?? (SocketUpstreamConnector.TryParse(request.Address, out var host, out _) ? host : null),
            ApplicationProtocols = [alpn],
        };
        if (!transport.ValidateCertificate)
        {
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        return options;
    }
}
