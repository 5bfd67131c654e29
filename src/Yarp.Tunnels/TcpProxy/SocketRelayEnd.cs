using System.Net.Sockets;

namespace Yarp.Tunnels.TcpProxy;

internal sealed class SocketRelayEnd(Socket socket) : RelayEnd
{
    public Socket Socket { get; } = socket;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    // A zero-byte receive completes when data arrives without pinning a buffer (as Kestrel's socket transport does).
    public override async ValueTask WaitForDataAsync(CancellationToken cancellationToken) =>
        await Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var sent = await Socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    public override void ShutdownWrite()
    {
        try
        {
            Socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public override void Abort()
    {
        try
        {
            // Linger 0 closes with RST, so the peer sees a reset rather than a clean end.
            Socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        Socket.Dispose();
    }

    public override ValueTask DisposeAsync()
    {
        Socket.Dispose();
        return default;
    }
}
