using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;

namespace Yarp.Tunnels.Benchmarks.Micro;

/// <summary>
/// A 64 KiB round trip on an open connection: the client writes 64 KiB, the other side echoes it, the client reads
/// 64 KiB back. Internal connection (default 1 MiB buffer) against a loopback TCP socket pair.
/// </summary>
[MemoryDiagnoser]
public class InternalTransferBenchmarks
{
    private const int Size = 64 * 1024;

    private readonly byte[] _payload = Enumerable.Range(0, Size).Select(i => (byte)i).ToArray();
    private readonly byte[] _received = new byte[Size];
    private Stream _internal = null!;
    private Socket _listener = null!;
    private Socket _serverSocket = null!;
    private NetworkStream _loopback = null!;
    private Task _socketEcho = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _internal = BenchListeners.Bind("echo", new BenchListeners.Echo()).Connect("echo");

        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accept = _listener.AcceptAsync();
        await client.ConnectAsync(_listener.LocalEndPoint!);
        _serverSocket = await accept;
        _serverSocket.NoDelay = true;
        _loopback = new NetworkStream(client, ownsSocket: true);
        _socketEcho = EchoAsync(_serverSocket);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _internal.DisposeAsync();
        _loopback.Socket.Shutdown(SocketShutdown.Send);
        await _socketEcho;
        await _loopback.DisposeAsync();
        _serverSocket.Dispose();
        _listener.Dispose();
    }

    [Benchmark(Baseline = true, Description = "loopback socket 64 KiB echo round trip")]
    public Task LoopbackRoundTrip() => RoundTripAsync(_loopback);

    [Benchmark(Description = "internal 64 KiB echo round trip")]
    public Task InternalRoundTrip() => RoundTripAsync(_internal);

    private async Task RoundTripAsync(Stream stream)
    {
        // Read while writing: neither side ever depends on the peer's buffer holding a whole 64 KiB.
        var read = stream.ReadExactlyAsync(_received);
        await stream.WriteAsync(_payload);
        await read;
    }

    private static async Task EchoAsync(Socket socket)
    {
        var buffer = new byte[Size];
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            var sent = 0;
            while (sent < read)
            {
                sent += await socket.SendAsync(buffer.AsMemory(sent, read - sent));
            }
        }
    }
}
