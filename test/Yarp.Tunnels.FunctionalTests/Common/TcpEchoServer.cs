using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>
/// A raw TCP server on 127.0.0.1 with an ephemeral port. By default it echoes every byte and, when the client
/// half-closes, half-closes back; a custom handler can serve connections differently.
/// </summary>
internal sealed class TcpEchoServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<Socket, CancellationToken, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, Task> _connections = new();
    private readonly Task _acceptLoop;
    private int _accepted;

    private TcpEchoServer(Func<Socket, CancellationToken, Task>? handler, int? receiveBufferSize)
    {
        _handler = handler ?? EchoAsync;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBufferSize is { } size)
        {
            // Set before listening, so accepted sockets inherit it and advertise a small window.
            _listener.ReceiveBufferSize = size;
        }
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(2048);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    public string Address => $"tcp://127.0.0.1:{Port}";

    /// <summary>How many connections were accepted.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    public static TcpEchoServer Start(Func<Socket, CancellationToken, Task>? handler = null, int? receiveBufferSize = null) => new(handler, receiveBufferSize);

    /// <summary>Echoes until the client half-closes, then half-closes back.</summary>
    public static async Task EchoAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                socket.Shutdown(SocketShutdown.Send);
                return;
            }
            await SocketIo.SendAllAsync(socket, buffer.AsMemory(0, read), cancellationToken);
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            Interlocked.Increment(ref _accepted);
            _connections[socket] = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        await Task.Yield();
        try
        {
            await _handler(socket, _stop.Token);
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (SocketException)
        {
            // The peer reset: tests assert on what the client sees.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        foreach (var socket in _connections.Keys)
        {
            socket.Dispose();
        }
        await Task.WhenAll(_connections.Values).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}

/// <summary>Socket helpers for byte-exact transfers.</summary>
internal static class SocketIo
{
    /// <summary>Two connected loopback sockets: the client end and the accepted end.</summary>
    public static async Task<(Socket Client, Socket Server)> ConnectedPairAsync(CancellationToken cancellationToken)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = await ConnectAsync(((IPEndPoint)listener.LocalEndPoint!).Port, cancellationToken);
        var server = await listener.AcceptAsync(cancellationToken);
        return (client, server);
    }

    public static async Task<Socket> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connects, or null when the server reset the connection before the client's connect completed: a tunnel that
    /// fails at once can reset the accepted connection before the client's connect reports success.
    /// </summary>
    public static async Task<Socket?> ConnectUnlessResetAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            return await ConnectAsync(port, cancellationToken);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return null;
        }
    }

    public static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, cancellationToken);
            data = data[sent..];
        }
    }

    /// <summary>Connects to <paramref name="port"/>, sends <paramref name="payload"/>, half-closes, and reads what comes back until the peer half-closes.</summary>
    public static async Task<byte[]> EchoThroughAsync(int port, byte[] payload, CancellationToken cancellationToken)
    {
        using var client = await ConnectAsync(port, cancellationToken);
        var reading = ReadToEndAsync(client, cancellationToken);
        await SendAllAsync(client, payload, cancellationToken);
        client.Shutdown(SocketShutdown.Send);
        return await reading;
    }

    /// <summary>Reads until the peer half-closes.</summary>
    public static async Task<byte[]> ReadToEndAsync(Socket socket, CancellationToken cancellationToken)
    {
        using var result = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken)) > 0)
        {
            result.Write(buffer, 0, read);
        }
        return result.ToArray();
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes; fails if the peer half-closes first.</summary>
    public static async Task<byte[]> ReadExactlyAsync(Socket socket, int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var offset = 0;
        while (offset < count)
        {
            var read = await socket.ReceiveAsync(result.AsMemory(offset), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException($"The peer closed after {offset} of {count} bytes.");
            }
            offset += read;
        }
        return result;
    }
}
