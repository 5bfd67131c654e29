using System.IO.Pipelines;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// The two bounded pipes of one internal connection and the state both ends share.
/// Each end completes only the pipe halves it owns; aborts wake the other end through pipe cancellation.
/// </summary>
internal sealed class InternalConnectionPair
{
    private int _reset;

    public InternalConnectionPair(InternalListenerRegistration listener, InternalConnectOptions? options)
    {
        Listener = listener;
        BufferBytes = listener.BufferSizeKb * 1024;
        var pipeOptions = new PipeOptions(
            pauseWriterThreshold: BufferBytes,
            resumeWriterThreshold: BufferBytes / 2,
            minimumSegmentSize: Math.Min(BufferBytes, 4096),
            useSynchronizationContext: false);
        ClientToServer = new Pipe(pipeOptions);
        ServerToClient = new Pipe(pipeOptions);
        Server = new InternalServerConnection(this, new InternalConnectionInfo(listener.Name, options));
        Client = new InternalStream(this);
    }

    public InternalListenerRegistration Listener { get; }

    public ListenerStats Stats => Listener.Stats;

    public int BufferBytes { get; }

    /// <summary>The largest single write into a pipe: never more than the buffer, so memory stays bounded by BufferSizeKb.</summary>
    public int WriteChunkSize => Math.Min(BufferBytes, 256 * 1024);

    public Pipe ClientToServer { get; }

    public Pipe ServerToClient { get; }

    public InternalServerConnection Server { get; }

    public InternalStream Client { get; }

    public bool IsReset => Volatile.Read(ref _reset) != 0;

    /// <summary>Marks the connection reset and wakes any read or write pending on the client end.</summary>
    public void ResetFromServer()
    {
        if (Interlocked.Exchange(ref _reset, 1) == 0)
        {
            ServerToClient.Reader.CancelPendingRead();
            ClientToServer.Writer.CancelPendingFlush();
        }
    }

    /// <summary>Marks the connection reset by the client; the server end reads a reset error.</summary>
    public bool MarkResetFromClient() => Interlocked.Exchange(ref _reset, 1) == 0;
}
