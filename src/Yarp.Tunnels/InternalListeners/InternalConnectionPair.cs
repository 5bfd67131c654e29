using System.IO.Pipelines;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// The two bounded pipes of one internal connection and the state both ends share.
/// Each end completes only the pipe halves it owns (the client end: <see cref="ClientToServer"/>'s writer and
/// <see cref="ServerToClient"/>'s reader; the server end the other two); a reset only cancels pending operations,
/// which wakes their owners, who then complete their halves with a reset error.
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

    /// <summary>The most put into a pipe per flush, so a stalled reader holds at most the buffer plus one block.</summary>
    public int MaxWriteSize => Math.Min(BufferBytes, PipeWriterExtensions.MaxBlockSize);

    public Pipe ClientToServer { get; }

    public Pipe ServerToClient { get; }

    public InternalServerConnection Server { get; }

    public InternalStream Client { get; }

    public bool IsReset => Volatile.Read(ref _reset) != 0;

    /// <summary>
    /// Marks the connection reset and wakes every pending read and flush of both ends; safe from any thread. Returns
    /// false when it was already reset.
    /// </summary>
    public bool Reset()
    {
        if (Interlocked.Exchange(ref _reset, 1) != 0)
        {
            return false;
        }
        ServerToClient.Reader.CancelPendingRead();
        ClientToServer.Writer.CancelPendingFlush();
        ClientToServer.Reader.CancelPendingRead();
        ServerToClient.Writer.CancelPendingFlush();
        Server.SignalClosed();
        return true;
    }
}
