using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>
/// The endpoints a test backend serves: echo, download, WebSocket echoes, health and connection info. <c>/ws</c> prefixes
/// each echo with the request's protocol; <c>/ws/echo</c> echoes unchanged, and a text message <c>!close</c> makes it
/// start the close handshake, <c>!abort</c> makes it reset the connection.
/// </summary>
internal static class BackendApp
{
    public static void Map(WebApplication app)
    {
        app.UseWebSockets();
        app.MapGet("/hello", (HttpContext c) => $"hello {c.Request.Protocol} host={c.Request.Host}");
        app.MapGet("/health", () => "ok");
        app.MapPost("/echo", async (HttpContext c) =>
        {
            c.Response.ContentType = "application/octet-stream";
            await c.Request.Body.CopyToAsync(c.Response.Body, c.RequestAborted);
        });
        app.MapPost("/sha256", async (HttpContext c) =>
        {
            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await c.Request.Body.ReadAsync(buffer, c.RequestAborted)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                total += read;
            }
            return $"{total}:{Convert.ToHexString(hash.GetHashAndReset())}";
        });
        app.MapGet("/download/{size:long}", async (HttpContext c, long size) =>
        {
            c.Response.ContentType = "application/octet-stream";
            c.Response.ContentLength = size;
            var block = Payload.Block;
            for (long sent = 0; sent < size; sent += block.Length)
            {
                await c.Response.Body.WriteAsync(block.AsMemory(0, (int)Math.Min(block.Length, size - sent)), c.RequestAborted);
            }
        });
        app.MapGet("/info", (HttpContext c) =>
        {
            var info = c.Features.Get<IInternalConnectionFeature>();
            return Results.Json(new
            {
                listener = info?.ListenerName,
                endpointId = info?.EndpointId,
                metadata = info?.Metadata,
                state = info?.State.ToDictionary(kv => kv.Key, kv => kv.Value.Value.ToString()),
            });
        });
        app.Map("/ws", async (HttpContext c) =>
        {
            if (!c.WebSockets.IsWebSocketRequest)
            {
                c.Response.StatusCode = 400;
                return;
            }
            using var socket = await c.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, c.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", c.RequestAborted);
                    return;
                }
                var reply = System.Text.Encoding.UTF8.GetBytes($"{c.Request.Protocol}:");
                await socket.SendAsync(reply.Concat(buffer.Take(result.Count)).ToArray(), result.MessageType, true, c.RequestAborted);
            }
        });
        app.Map("/ws/echo", async (HttpContext c) =>
        {
            if (!c.WebSockets.IsWebSocketRequest)
            {
                c.Response.StatusCode = 400;
                return;
            }
            using var socket = await c.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer.AsMemory(), c.RequestAborted);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, c.RequestAborted);
                        return;
                    }
                    var command = result.MessageType == WebSocketMessageType.Text && result.EndOfMessage
                        ? System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count)
                        : null;
                    if (command == "!close")
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "server close", c.RequestAborted);
                        return;
                    }
                    if (command == "!abort")
                    {
                        c.Abort();
                        return;
                    }
                    await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, c.RequestAborted);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // The client went away without a close handshake.
            }
        });
    }
}
