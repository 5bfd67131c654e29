using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// The listening socket of an HTTP socket listener, in place of Kestrel's socket transport (with its options): accepted
/// connections are <see cref="SocketHttpConnection"/>s, whose socket an HTTP/1.1 CONNECT tunnel can take over.
/// </summary>
internal sealed class SocketHttpConnectionListener : IConnectionListener
{
    private readonly Socket _socket;
    private readonly SocketTransportOptions _options;
    private readonly MemoryPool<byte> _memoryPool;
    private readonly PipeOptions _inputOptions;
    private readonly PipeOptions _outputOptions;

    /// <param name="endPoint">The address to bind.</param>
    /// <param name="options">Kestrel's socket transport options (backlog, no-delay, buffer limits).</param>
    /// <param name="memoryPoolFactory">Kestrel's memory pool factory (pinned blocks), as its socket transport uses; none: the shared pool.</param>
    public SocketHttpConnectionListener(IPEndPoint endPoint, SocketTransportOptions options, IMemoryPoolFactory<byte>? memoryPoolFactory)
    {
        _options = options;
        _socket = ListenSocket.Bind(endPoint, options.Backlog);
        _memoryPool = memoryPoolFactory?.Create(new MemoryPoolOptions { Owner = "yarp-tunnels" }) ?? MemoryPool<byte>.Shared;
        // Shared by every connection (immutable), as Kestrel's socket transport does: Kestrel's defaults are 1 MiB / 64 KiB.
        var maxRead = options.MaxReadBufferSize ?? 0;
        var maxWrite = options.MaxWriteBufferSize ?? 0;
        _inputOptions = new PipeOptions(_memoryPool, pauseWriterThreshold: maxRead, resumeWriterThreshold: maxRead / 2, useSynchronizationContext: false);
        _outputOptions = new PipeOptions(_memoryPool, pauseWriterThreshold: maxWrite, resumeWriterThreshold: maxWrite / 2, useSynchronizationContext: false);
        EndPoint = _socket.LocalEndPoint!;
    }

    public EndPoint EndPoint { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return null;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.OperationAborted)
            {
                return null;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                // The client reset before the accept completed (as Kestrel: try the next one).
                continue;
            }
            accepted.NoDelay = _options.NoDelay;
            var connection = new SocketHttpConnection(accepted, _inputOptions, _outputOptions);
            connection.Start();
            return connection;
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _socket.Dispose();
        return default;
    }

    public ValueTask DisposeAsync()
    {
        // The listener drained its connections before disposing this.
        _socket.Dispose();
        if (_memoryPool != MemoryPool<byte>.Shared)
        {
            _memoryPool.Dispose();
        }
        return default;
    }
}
