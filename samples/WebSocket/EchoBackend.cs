using System.Net.WebSockets;
using System.Text.Json;

namespace WebSocketSample;

/// <summary>
/// The WebSocket echo served on internal listener <c>ws-echo</c>. Its first message is a JSON hello saying how each hop
/// was made; every message after it is echoed back unchanged (type and fragmentation kept), and a close is answered.
/// </summary>
internal static class EchoBackend
{
    public const string ListenerName = "ws-echo";

    /// <summary>The request header the gateway's <c>RequestHeaderDownstreamProtocol</c> transform sets.</summary>
    public const string DownstreamProtocolHeader = "X-Downstream-Protocol";

    public static async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("This endpoint speaks WebSocket only.\n", context.RequestAborted);
            return;
        }
        var hello = JsonSerializer.SerializeToUtf8Bytes(new
        {
            hello = "ws-echo",
            client = context.Request.Headers[DownstreamProtocolHeader].ToString() is { Length: > 0 } client ? client : null,
            backend = HopProtocol.Describe(context),
        });
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var aborted = context.RequestAborted;
        try
        {
            await socket.SendAsync(hello, WebSocketMessageType.Text, endOfMessage: true, aborted);
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), aborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.Empty, socket.CloseStatusDescription, aborted);
                    return;
                }
                await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, aborted);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client went away without a close handshake: nothing left to echo to.
        }
    }
}
