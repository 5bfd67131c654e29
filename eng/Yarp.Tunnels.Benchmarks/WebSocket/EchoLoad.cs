using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;

namespace Yarp.Tunnels.Benchmarks.WebSocket;

/// <summary>WebSocket echo load from <see cref="ClientWebSocket"/>: single-socket round trips and many-socket ping-pong.</summary>
internal static class EchoLoad
{
    /// <summary>A handler for one path: several HTTP/2 connections when one runs out of streams.</summary>
    public static HttpMessageInvoker CreateInvoker() => new(new SocketsHttpHandler { EnableMultipleHttp2Connections = true });

    public static async Task<ClientWebSocket> ConnectAsync(Uri uri, Version version, HttpMessageInvoker invoker)
    {
        var socket = new ClientWebSocket();
        socket.Options.HttpVersion = version;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(uri, invoker, timeout.Token);
        return socket;
    }

    /// <summary><paramref name="count"/> sequential round trips of <paramref name="message"/>; each one's time in <see cref="Stopwatch"/> ticks.</summary>
    public static async Task<long[]> RoundTripsAsync(ClientWebSocket socket, byte[] message, int count)
    {
        var buffer = new byte[Math.Max(message.Length, 1024)];
        var times = new long[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await EchoAsync(socket, message, buffer);
            times[i] = Stopwatch.GetTimestamp() - start;
        }
        return times;
    }

    /// <summary>Every socket echoes one message at a time for <paramref name="duration"/>; returns the messages echoed.</summary>
    public static async Task<long> PingPongAsync(IReadOnlyList<ClientWebSocket> sockets, byte[] message, TimeSpan duration)
    {
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var counts = await Task.WhenAll(sockets.Select(socket => Task.Run(async () =>
        {
            var buffer = new byte[Math.Max(message.Length, 1024)];
            long echoed = 0;
            while (Stopwatch.GetTimestamp() < end)
            {
                await EchoAsync(socket, message, buffer);
                echoed++;
            }
            return echoed;
        })));
        return counts.Sum();
    }

    private static async Task EchoAsync(ClientWebSocket socket, byte[] message, byte[] buffer)
    {
        await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        var received = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(received), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException("The echo closed the WebSocket.");
            }
            received += result.Count;
            if (result.EndOfMessage)
            {
                if (received != message.Length)
                {
                    throw new InvalidOperationException($"Echoed {received} bytes for a {message.Length}-byte message.");
                }
                return;
            }
        }
    }
}
