using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// Opens tunnels as HTTP/2 streams on pooled, multiplexed connections: a classic CONNECT (RFC 9113 §8.5: <c>:method</c>
/// and <c>:authority</c> only), an extended CONNECT (RFC 8441, when <see cref="TunnelHead.Protocol"/> is set) or a POST
/// whose bodies are the payload. Established on 200 for CONNECT, on any 2xx for POST; any other answer, a reset, a
/// GOAWAY that refused the stream or a failed connection is a typed failure, and the stream is reset.
/// </summary>
internal sealed class Http2TunnelOpener(Http2ConnectionPool pool) : ITunnelOpener
{
    // A stream the peer refused unprocessed (REFUSED_STREAM, or beyond a GOAWAY's last stream) is opened again, on
    // another connection when that one is draining (RFC 9113 §8.7): no tunnel byte was sent yet.
    private const int MaxAttempts = 3;

    public async ValueTask<TunnelOpenResult> OpenAsync(UpstreamRequest request, TunnelHead head, TunnelTransportOptions transport, CancellationToken cancellationToken)
    {
        var fields = Fields(head, transport.UseTls);
        for (var attempt = 1; ; attempt++)
        {
            Http2Stream stream;
            try
            {
                stream = await pool.OpenStreamAsync(request, transport, fields, head.Protocol is not null, cancellationToken).ConfigureAwait(false);
            }
            catch (Http2ConnectException ex)
            {
                return TunnelOpenResult.Failed(TunnelFailure.Connect, ex.Message);
            }
            catch (Http2ConnectionException ex)
            {
                return TunnelOpenResult.Failed(FailureOf(ex.Code), ex.Message);
            }

            Http2Response response;
            try
            {
                response = await stream.Response.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is Http2StreamException or Http2ConnectionException or Http2ConnectException)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                if (ex is Http2StreamException { ByPeer: true, Code: Http2ErrorCode.RefusedStream } && attempt < MaxAttempts)
                {
                    continue;
                }
                var failure = ex switch
                {
                    Http2ConnectionException connection => FailureOf(connection.Code),
                    Http2ConnectException => TunnelFailure.Connect,
                    Http2StreamException { ByPeer: false, Code: Http2ErrorCode.ProtocolError } => TunnelFailure.Protocol,
                    _ => TunnelFailure.Reset,
                };
                return TunnelOpenResult.Failed(failure, ex.Message);
            }
            catch
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            return await CompleteAsync(head, stream, response).ConfigureAwait(false);
        }
    }

    private static async ValueTask<TunnelOpenResult> CompleteAsync(TunnelHead head, Http2Stream stream, Http2Response response)
    {
        var established = head.Method == "POST" ? response.Status is >= 200 and < 300 : response.Status == 200;
        if (!established)
        {
            // Never relay the refusing answer's body as payload: reset the stream.
            await stream.DisposeAsync().ConfigureAwait(false);
            return TunnelOpenResult.Failed(TunnelFailure.Status, $"the upstream answered {response.Status}", response.Status, response.Headers);
        }
        return new TunnelOpenResult(stream, TunnelFailure.None, response.Status, null, response.Headers, stream.Trailers);
    }

    /// <summary>The request's pseudo-headers for the tunnel kind, then <see cref="TunnelHead.Headers"/> with lower-case names (RFC 9113 §8.2).</summary>
    internal static List<KeyValuePair<string, string>> Fields(TunnelHead head, bool tls)
    {
        var scheme = tls ? "https" : "http";
        List<KeyValuePair<string, string>> fields = [new(":method", head.Method)];
        if (head.Method == "CONNECT" && head.Protocol is null)
        {
            // Classic CONNECT carries no :scheme and no :path (RFC 9113 §8.5); Kestrel and Envoy reset one that does.
            fields.Add(new(":authority", head.Authority));
        }
        else
        {
            if (head.Protocol is { } protocol)
            {
                fields.Add(new(":protocol", protocol));
            }
            fields.Add(new(":scheme", scheme));
            fields.Add(new(":path", head.Path ?? "/"));
            fields.Add(new(":authority", head.Authority));
        }
        foreach (var (name, value) in head.Headers)
        {
            fields.Add(new(name.ToLowerInvariant(), value));
        }
        return fields;
    }

    private static TunnelFailure FailureOf(Http2ErrorCode code) => code switch
    {
        Http2ErrorCode.ProtocolError or Http2ErrorCode.CompressionError or Http2ErrorCode.FrameSizeError or Http2ErrorCode.FlowControlError => TunnelFailure.Protocol,
        _ => TunnelFailure.Reset,
    };
}
