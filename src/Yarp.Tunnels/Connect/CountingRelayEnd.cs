using System.IO.Pipelines;
using System.Net.Sockets;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Connect;

/// <summary>A <see cref="RelayEnd"/> that counts what the relay read from and wrote to it, for the tunnel's own log and activity.</summary>
internal sealed class CountingRelayEnd(RelayEnd inner) : RelayEnd
{
    private long _received;
    private long _sent;

    /// <summary>Bytes read from the end (from the client).</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Bytes written to the end (to the client).</summary>
    public long Sent => Volatile.Read(ref _sent);

    public override Socket? Socket => inner.Socket;

    public override PipeReader? Input => inner.Input;

    public override PipeWriter? Output => inner.Output;

    public override int MaxWriteSize => inner.MaxWriteSize;

    public override ValueTask WaitForDataAsync(CancellationToken cancellationToken) => inner.WaitForDataAsync(cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => inner.ReadAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => inner.WriteAsync(data, cancellationToken);

    public override void CountBytes(long count, bool read)
    {
        Interlocked.Add(ref read ? ref _received : ref _sent, count);
        inner.CountBytes(count, read);
    }

    public override void ShutdownWrite() => inner.ShutdownWrite();

    public override void Abort() => inner.Abort();

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}
