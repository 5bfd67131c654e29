using System.IO.Pipelines;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>One side of a TCP relay: a socket, an internal listener's connection or an internal client stream.</summary>
internal abstract class RelayEnd : IAsyncDisposable
{
    /// <summary>Reads into <paramref name="buffer"/>; 0 means the peer finished sending.</summary>
    public abstract ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Completes when data (or end-of-stream) is ready to read, so idle connections hold no buffer meanwhile.</summary>
    public virtual ValueTask WaitForDataAsync(CancellationToken cancellationToken) => default;

    public abstract ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>The pipe this end reads from, if it has one: the relay then sends straight from the pipe's memory.</summary>
    public virtual PipeReader? Input => null;

    /// <summary>The pipe this end writes to, if it has one: the relay then receives straight into the pipe's memory.</summary>
    public virtual PipeWriter? Output => null;

    /// <summary>The most the relay puts into <see cref="Output"/> per flush, so memory stays within the pipe's buffer size.</summary>
    public virtual int OutputChunkSize => 64 * 1024;

    /// <summary>Accounts bytes moved through <see cref="Input"/> (<paramref name="read"/>) or <see cref="Output"/> (written).</summary>
    public virtual void OnPipeBytes(long count, bool read)
    {
    }

    /// <summary>Half-closes: the peer reads end-of-stream and may still send.</summary>
    public abstract void ShutdownWrite();

    /// <summary>Resets the connection.</summary>
    public abstract void Abort();

    public abstract ValueTask DisposeAsync();
}
