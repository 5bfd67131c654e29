using System.Collections.Concurrent;
using System.Net.Sockets;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Connect;

/// <summary>A TCP target that keeps every byte each connection sent (until its half-close) and then answers "done".</summary>
internal sealed class RecordingServer : IAsyncDisposable
{
    private readonly TcpEchoServer _server;
    private readonly ConcurrentQueue<byte[]> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private RecordingServer()
    {
        _server = TcpEchoServer.Start(async (socket, cancellationToken) =>
        {
            var bytes = await SocketIo.ReadToEndAsync(socket, cancellationToken);
            _received.Enqueue(bytes);
            _arrived.Release();
            await SocketIo.SendAllAsync(socket, "done"u8.ToArray(), cancellationToken);
            socket.Shutdown(SocketShutdown.Send);
        });
    }

    public string Address => _server.Address;

    public static RecordingServer Start() => new();

    /// <summary>The bytes of the next connection that ended (bounded wait).</summary>
    public async Task<byte[]> NextAsync()
    {
        Assert.True(await _arrived.WaitAsync(TestHost.Timeout), "no connection ended at the recording target");
        Assert.True(_received.TryDequeue(out var bytes));
        return bytes;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
