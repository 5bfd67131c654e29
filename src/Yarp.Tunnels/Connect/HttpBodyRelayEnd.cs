using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// The client side of a tunnel carried in a request and its response: an HTTP/2 CONNECT stream (DATA both ways,
/// <c>END_STREAM</c> as half-close, <c>RST_STREAM</c> as reset) or an <c>AllowPost</c> POST (the request body in, a
/// chunked or DATA response body out). The relay reads the request body pipe and writes the response body pipe.
/// </summary>
internal sealed class HttpBodyRelayEnd : RelayEnd
{
    private readonly HttpContext _context;
    private int _aborted;

    private HttpBodyRelayEnd(HttpContext context)
    {
        _context = context;
    }

    public override PipeReader Input => _context.Request.BodyReader;

    public override PipeWriter Output => _context.Response.BodyWriter;

    /// <summary>Lifts the body size and data rate limits (a tunnel lives long and may idle) and sends the 200.</summary>
    public static async Task<HttpBodyRelayEnd> AcceptAsync(HttpContext context)
    {
        var features = context.Features;
        if (features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } maxBody)
        {
            maxBody.MaxRequestBodySize = null;
        }
        if (features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minRequestRate)
        {
            minRequestRate.MinDataRate = null;
        }
        if (features.Get<IHttpMinResponseDataRateFeature>() is { } minResponseRate)
        {
            minResponseRate.MinDataRate = null;
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        return new HttpBodyRelayEnd(context);
    }

    /// <summary>Ends the response (HTTP/2 <c>END_STREAM</c>, the last chunk on HTTP/1.1); the request body may still flow.</summary>
    public override void ShutdownWrite() => _ = CompleteResponseAsync();

    /// <summary>Resets the stream (HTTP/2 <c>RST_STREAM</c>) or the connection (HTTP/1.1).</summary>
    public override void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) == 0)
        {
            _context.Abort();
        }
    }

    public override ValueTask DisposeAsync() => default;

    private async Task CompleteResponseAsync()
    {
        try
        {
            await _context.Response.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The client reset meanwhile; the relay's read side sees it.
        }
    }
}
