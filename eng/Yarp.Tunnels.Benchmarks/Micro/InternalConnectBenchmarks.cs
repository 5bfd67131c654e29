using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Benchmarks.Micro;

/// <summary>
/// Opening and closing one connection: an internal connection (the listener side closes at once) against a loopback
/// TCP connect + accept + close on 127.0.0.1. The goal for the internal connection is at most 5 µs per open.
/// </summary>
[MemoryDiagnoser]
public class InternalConnectBenchmarks
{
    private InternalListenerRegistry _registry = null!;
    private Socket _listener = null!;
    private IPEndPoint _endPoint = null!;

    [GlobalSetup]
    public void Setup()
    {
        _registry = BenchListeners.Bind("connect", new BenchListeners.Closing());
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4096);
        _endPoint = (IPEndPoint)_listener.LocalEndPoint!;
    }

    [GlobalCleanup]
    public void Cleanup() => _listener.Dispose();

    [Benchmark(Baseline = true, Description = "loopback TCP connect+accept+close")]
    public async Task LoopbackTcpConnect()
    {
        var accept = _listener.AcceptAsync();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(_endPoint);
        using var server = await accept;
    }

    [Benchmark(Description = "internal connect+close")]
    public void InternalConnect()
    {
        using var stream = _registry.Connect("connect");
    }
}
