using System.Net;
using System.Net.Sockets;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>A connected socket; <paramref name="listenerStats"/>, when given, counts its bytes as a listener's downstream bytes.</summary>
internal sealed class SocketRelayEnd(Socket socket, ListenerStats? listenerStats = null) : RelayEnd
{
    // How often a peek for more bytes than the socket holds looks again (a socket cannot wait for "more than N bytes").
    private static readonly TimeSpan PeekPollInterval = TimeSpan.FromMilliseconds(5);

    public override Socket Socket => socket;

    public override EndPoint? LocalEndPoint => socket.LocalEndPoint;

    public override EndPoint? RemoteEndPoint => socket.RemoteEndPoint;

    public override async ValueTask<int> PeekAsync(Memory<byte> buffer, int known, CancellationToken cancellationToken)
    {
        while (true)
        {
            await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            // Data (or end of stream) is there, so this peek does not block.
            var count = socket.Receive(buffer.Span, SocketFlags.Peek);
            if (count == 0 || count > known || count == buffer.Length)
            {
                return count;
            }
            await Task.Delay(PeekPollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    // A zero-byte receive completes when data arrives without pinning a buffer (as Kestrel's socket transport does).
    public override async ValueTask WaitForDataAsync(CancellationToken cancellationToken) =>
        await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    public override void CountBytes(long count, bool read)
    {
        if (read)
        {
            listenerStats?.AddReceived(count);
        }
        else
        {
            listenerStats?.AddSent(count);
        }
    }

    public override void ShutdownWrite()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Closes with RST (linger 0), so the peer sees a reset rather than a clean end. Safe while a loop receives into pipe
    /// memory: the pending receive completes with an error before that loop continues.
    /// </summary>
    public override void Abort()
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        socket.Dispose();
    }

    public override ValueTask DisposeAsync()
    {
        socket.Dispose();
        return default;
    }
}
