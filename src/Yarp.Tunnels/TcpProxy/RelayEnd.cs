namespace Yarp.Tunnels.TcpProxy;

/// <summary>One side of a TCP relay: a socket, an internal listener's connection or an internal client stream.</summary>
internal abstract class RelayEnd : IAsyncDisposable
{
    /// <summary>Reads into <paramref name="buffer"/>; 0 means the peer finished sending.</summary>
    public abstract ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    public abstract ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Half-closes: the peer reads end-of-stream and may still send.</summary>
    public abstract void ShutdownWrite();

    /// <summary>Resets the connection.</summary>
    public abstract void Abort();

    public abstract ValueTask DisposeAsync();
}
