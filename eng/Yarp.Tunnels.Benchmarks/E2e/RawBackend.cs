using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Yarp.Tunnels.Benchmarks.E2e;

/// <summary>
/// The raw socket server at the end of both TCP chains. A connection whose first byte is <see cref="EchoMode"/> is
/// echoed; any other connection is a sink whose bytes are counted and discarded.
/// </summary>
internal sealed class RawBackend : IAsyncDisposable
{
    public const byte EchoMode = (byte)'E';
    public const byte SinkMode = (byte)'S';

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Task _acceptLoop;
    private long _sinkBytes;

    public RawBackend()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4096);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>Bytes received so far by sink connections.</summary>
    public long SinkBytes => Interlocked.Read(ref _sinkBytes);

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync();
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted })
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            socket.NoDelay = true;
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        // Pooled: a fresh 64 KiB array per connection costs the backend more CPU than the proxies it measures.
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var read = await socket.ReceiveAsync(buffer);
            if (read > 0 && buffer[0] == EchoMode)
            {
                do
                {
                    for (var sent = 0; sent < read;)
                    {
                        sent += await socket.SendAsync(buffer.AsMemory(sent, read - sent));
                    }
                }
                while ((read = await socket.ReceiveAsync(buffer)) > 0);
            }
            else
            {
                while (read > 0)
                {
                    Interlocked.Add(ref _sinkBytes, read);
                    read = await socket.ReceiveAsync(buffer);
                }
            }
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
        }
        finally
        {
            socket.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _acceptLoop;
    }
}
