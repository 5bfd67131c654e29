using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary><see cref="ClientWebSocket"/> over HTTP/1.1 or HTTP/2 (RFC 8441), and the echo checks the tests share.</summary>
internal static class WebSocketClients
{
    /// <summary>
    /// Connects with exactly <paramref name="version"/> (<see cref="HttpVersionPolicy.RequestVersionExact"/>); HTTP/2 on
    /// <c>ws://</c> is prior knowledge (h2c). Certificates are not checked (the samples' are self-signed).
    /// </summary>
    public static async Task<ClientWebSocket> ConnectAsync(Uri uri, Version version, HttpMessageInvoker? invoker = null, CancellationToken cancellationToken = default)
    {
        var socket = new ClientWebSocket();
        socket.Options.HttpVersion = version;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(uri, invoker ?? CreateInvoker(), cancellationToken.CanBeCanceled ? cancellationToken : TestHost.TimeoutToken());
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A handler for WebSockets: no certificate check, several HTTP/2 connections when streams run out.</summary>
    public static HttpMessageInvoker CreateInvoker() => new(new SocketsHttpHandler
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        EnableMultipleHttp2Connections = true,
    });

    public static async Task<string> ReceiveTextAsync(WebSocket socket)
    {
        var (type, payload) = await ReceiveAsync(socket);
        Assert.Equal(WebSocketMessageType.Text, type);
        return Encoding.UTF8.GetString(payload);
    }

    /// <summary>The WebSocket sample's first message: <c>{"hello":"ws-echo","client":…,"backend":…}</c>.</summary>
    public static async Task<(string Client, string Backend)> ReceiveHelloAsync(WebSocket socket)
    {
        using var hello = JsonDocument.Parse(await ReceiveTextAsync(socket));
        Assert.Equal("ws-echo", hello.RootElement.GetProperty("hello").GetString());
        return (hello.RootElement.GetProperty("client").GetString()!, hello.RootElement.GetProperty("backend").GetString()!);
    }

    /// <summary>Sends text and binary messages (up to 200 KB, so several frames) and checks each echo byte for byte.</summary>
    public static async Task AssertEchoesAsync(WebSocket socket, int messages = 6)
    {
        for (var i = 0; i < messages; i++)
        {
            var type = i % 2 == 0 ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
            var payload = type == WebSocketMessageType.Text
                ? Encoding.UTF8.GetBytes($"message {i} ü {new string('x', i * 1000)}")
                : RandomNumberGenerator.GetBytes(1 + (i * 40_000));
            await socket.SendAsync(payload, type, endOfMessage: true, TestHost.TimeoutToken());
            var (echoType, echo) = await ReceiveAsync(socket);
            Assert.Equal(type, echoType);
            Bytes.AssertEqual(payload, echo, $"echo {i}");
        }
    }

    /// <summary>Closes with 1000 and checks the peer answered the close handshake.</summary>
    public static async Task CloseAsync(WebSocket socket)
    {
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", TestHost.TimeoutToken());
        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    private static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveAsync(WebSocket socket)
    {
        using var message = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, TestHost.TimeoutToken());
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, message.ToArray());
            }
        }
    }
}
