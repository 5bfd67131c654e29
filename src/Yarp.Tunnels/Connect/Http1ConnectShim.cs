using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Tunneling;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// A pass-through connection middleware under Kestrel's HTTP/1.1 parser, so a CONNECT is parsed, routed, authorized and
/// rate limited by the normal HTTP pipeline (with Kestrel's header limits and request-headers timeout), and the CONNECT
/// step can then take the raw connection over (<see cref="IHttp1ConnectFeature"/>) with real half-close: Kestrel aborts
/// a request whose client half-closes, so taking over the transport under a running Kestrel request loses the rest.
/// </summary>
/// <remarks>
/// Until a detach every call is forwarded, so Kestrel consumes exactly what it parsed (a CONNECT's header block: it has
/// no body) and the bytes after it stay in the transport. Kestrel's connection-closed signal is forwarded only while
/// attached. HTTP/2 connections (ALPN <c>h2</c>) are passed on untouched.
/// </remarks>
internal static class Http1ConnectShim
{
    public static ConnectionDelegate Use(ConnectionDelegate next) => async connection =>
    {
        if (connection.Features.Get<ITlsApplicationProtocolFeature>() is { } alpn && alpn.ApplicationProtocol.Span.SequenceEqual("h2"u8))
        {
            await next(connection).ConfigureAwait(false);
            return;
        }
        var shimmed = new ShimmedConnection(connection);
        var previous = connection.Features.Get<IHttp1ConnectFeature>();
        connection.Features.Set<IHttp1ConnectFeature>(shimmed);
        try
        {
            await next(shimmed).ConfigureAwait(false);
        }
        finally
        {
            connection.Features.Set(previous);
            shimmed.Dispose();
        }
    };

    private sealed class ShimmedConnection : ConnectionContext, IHttp1ConnectFeature, IDuplexPipe, IDisposable
    {
        private const int Attached = 0;
        private const int Detached = 1;
        private const int Finished = 2;

        private readonly ConnectionContext _inner;
        private readonly CancellationTokenSource _closed = new();
        private readonly CancellationTokenRegistration _innerClosed;
        private readonly ShimReader _reader;
        private readonly ShimWriter _writer;
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private RelayEnd? _tunnel;
        private bool _abortedWhileDetaching;
        private int _state;

        public ShimmedConnection(ConnectionContext inner)
        {
            _inner = inner;
            var transport = inner.Transport;
            _reader = new ShimReader(this, transport.Input);
            _writer = new ShimWriter(this, transport.Output);
            _innerClosed = inner.ConnectionClosed.UnsafeRegister(static state => ((ShimmedConnection)state!).OnInnerClosed(), this);
        }

        private bool IsAttached => Volatile.Read(ref _state) == Attached;

        public override string ConnectionId { get => _inner.ConnectionId; set => _inner.ConnectionId = value; }

        public override IFeatureCollection Features => _inner.Features;

        public override IDictionary<object, object?> Items { get => _inner.Items; set => _inner.Items = value; }

        public override IDuplexPipe Transport { get => this; set => throw new NotSupportedException("The CONNECT shim's transport cannot be replaced."); }

        PipeReader IDuplexPipe.Input => _reader;

        PipeWriter IDuplexPipe.Output => _writer;

        public override CancellationToken ConnectionClosed { get => _closed.Token; set => throw new NotSupportedException(); }

        public override EndPoint? LocalEndPoint { get => _inner.LocalEndPoint; set => _inner.LocalEndPoint = value; }

        public override EndPoint? RemoteEndPoint { get => _inner.RemoteEndPoint; set => _inner.RemoteEndPoint = value; }

        public bool IsPlainSocket => _inner.Features.Get<ISocketDetachFeature>() is { CanDetach: true };

        public async ValueTask<RelayEnd> DetachAsync()
        {
            if (Interlocked.CompareExchange(ref _state, Detached, Attached) != Attached)
            {
                throw new InvalidOperationException("This connection was already handed to a CONNECT tunnel.");
            }
            RelayEnd tunnel;
            if (_inner.Features.Get<ISocketDetachFeature>() is { CanDetach: true } socket)
            {
                // A plain socket: the tunnel relays socket to socket, with real half-close and without Kestrel's pipes.
                DetachedSocket detached;
                try
                {
                    detached = await socket.DetachAsync().ConfigureAwait(false);
                }
                catch
                {
                    // No tunnel will end this connection: Kestrel's next read sees its end.
                    Finish();
                    throw;
                }
                _reader.Release();
                _writer.Release();
                RelayEnd end = new SocketRelayEnd(detached.Socket);
                if (detached.Early is { } early)
                {
                    end = new PrefixedRelayEnd(end, early, 0, detached.EarlyCount);
                }
                tunnel = new SocketTunnelEnd(this, end);
            }
            else
            {
                tunnel = new TunnelEnd(this, _inner);
            }
            Volatile.Write(ref _tunnel, tunnel);
            if (Volatile.Read(ref _abortedWhileDetaching))
            {
                tunnel.Abort();
            }
            return tunnel;
        }

        public override void Abort(ConnectionAbortedException abortReason)
        {
            switch (Volatile.Read(ref _state))
            {
                case Attached:
                    _inner.Abort(abortReason);
                    break;
                case Detached:
                    // Kestrel gave up on the connection (shutdown, a limit): reset the tunnel it no longer owns.
                    Volatile.Write(ref _abortedWhileDetaching, true);
                    Volatile.Read(ref _tunnel)?.Abort();
                    break;
                default:
                    // The tunnel ended and aborted the request itself; the connection closes gracefully when Kestrel returns.
                    break;
            }
        }

        public override ValueTask DisposeAsync() => _inner.DisposeAsync();

        public void Dispose()
        {
            _innerClosed.Dispose();
            _closed.Dispose();
        }

        /// <summary>The tunnel ended: Kestrel's pending read completes (end of stream) and later aborts are ignored.</summary>
        private void Finish()
        {
            Volatile.Write(ref _state, Finished);
            _finished.TrySetResult();
        }

        private void OnInnerClosed()
        {
            if (IsAttached)
            {
                try
                {
                    _closed.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        /// <summary>Kestrel's view of the input: the transport until a detach, then nothing until the tunnel ends.</summary>
        private sealed class ShimReader(ShimmedConnection owner, PipeReader inner) : PipeReader
        {
            private PipeReader? _inner = inner;
            private volatile bool _cancelRequested;

            /// <summary>Once detached for good (the socket itself was handed over), the transport's reader is not used again.</summary>
            public void Release() => _inner = null;

            public override bool TryRead(out ReadResult result)
            {
                if (owner.IsAttached)
                {
                    return _inner!.TryRead(out result);
                }
                result = default;
                return false;
            }

            public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
                owner.IsAttached ? _inner!.ReadAsync(cancellationToken) : WaitForTunnelAsync(cancellationToken);

            private async ValueTask<ReadResult> WaitForTunnelAsync(CancellationToken cancellationToken)
            {
                if (!_cancelRequested)
                {
                    await owner._finished.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                var canceled = _cancelRequested;
                _cancelRequested = false;
                return new ReadResult(ReadOnlySequence<byte>.Empty, canceled, isCompleted: !canceled);
            }

            public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

            public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
            {
                if (owner.IsAttached)
                {
                    _inner!.AdvanceTo(consumed, examined);
                }
            }

            public override void CancelPendingRead()
            {
                if (owner.IsAttached)
                {
                    _inner!.CancelPendingRead();
                }
                else
                {
                    _cancelRequested = true;
                }
            }

            public override void Complete(Exception? exception = null)
            {
                // The tunnel owns the transport once detached; the transport itself completes it when the connection ends.
                if (owner.IsAttached)
                {
                    _inner!.Complete(exception);
                }
            }
        }

        /// <summary>Kestrel's view of the output: the transport until a detach, then a sink.</summary>
        private sealed class ShimWriter(ShimmedConnection owner, PipeWriter inner) : PipeWriter
        {
            private readonly bool _canGetUnflushedBytes = inner.CanGetUnflushedBytes;
            private PipeWriter? _inner = inner;
            private byte[] _sink = [];

            public override bool CanGetUnflushedBytes => _canGetUnflushedBytes;

            public override long UnflushedBytes => owner.IsAttached ? _inner!.UnflushedBytes : 0;

            /// <summary>Once detached for good (the socket itself was handed over), the transport's writer is not used again.</summary>
            public void Release() => _inner = null;

            public override void Advance(int bytes)
            {
                if (owner.IsAttached)
                {
                    _inner!.Advance(bytes);
                }
            }

            public override Memory<byte> GetMemory(int sizeHint = 0) => owner.IsAttached ? _inner!.GetMemory(sizeHint) : Sink(sizeHint);

            public override Span<byte> GetSpan(int sizeHint = 0) => owner.IsAttached ? _inner!.GetSpan(sizeHint) : Sink(sizeHint).Span;

            public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
                owner.IsAttached ? _inner!.FlushAsync(cancellationToken) : new(new FlushResult(isCanceled: false, isCompleted: true));

            public override void CancelPendingFlush()
            {
                if (owner.IsAttached)
                {
                    _inner!.CancelPendingFlush();
                }
            }

            public override void Complete(Exception? exception = null)
            {
                if (owner.IsAttached)
                {
                    _inner!.Complete(exception);
                }
            }

            private Memory<byte> Sink(int sizeHint)
            {
                if (_sink.Length < Math.Max(sizeHint, 256))
                {
                    _sink = new byte[Math.Max(sizeHint, 4096)];
                }
                return _sink;
            }
        }

        /// <summary>The tunnel's end on the socket taken from Kestrel; ending the tunnel closes the socket and lets Kestrel finish.</summary>
        private sealed class SocketTunnelEnd(ShimmedConnection owner, RelayEnd socket) : RelayEnd
        {
            public override Socket? Socket => socket.Socket;

            public override EndPoint? LocalEndPoint => socket.LocalEndPoint;

            public override EndPoint? RemoteEndPoint => socket.RemoteEndPoint;

            public override ValueTask WaitForDataAsync(CancellationToken cancellationToken) => socket.WaitForDataAsync(cancellationToken);

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => socket.ReadAsync(buffer, cancellationToken);

            public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => socket.WriteAsync(data, cancellationToken);

            public override void ShutdownWrite() => socket.ShutdownWrite();

            public override void Abort() => socket.Abort();

            public override async ValueTask DisposeAsync()
            {
                await socket.DisposeAsync().ConfigureAwait(false);
                owner.Finish();
            }
        }

        /// <summary>The tunnel's end on Kestrel's transport pipes (a TLS listener, or a transport that is not ours).</summary>
        private sealed class TunnelEnd(ShimmedConnection owner, ConnectionContext connection) : RelayEnd
        {
            private int _aborted;

            public override PipeReader Input => connection.Transport.Input;

            public override PipeWriter Output => connection.Transport.Output;

            // Kestrel's socket transport closes the whole connection when its output completes: after the target's FIN
            // an HTTP/1.1 client gets the last bytes and then the connection closes (Envoy does the same).
            public override void ShutdownWrite() => connection.Transport.Output.Complete();

            public override void Abort()
            {
                if (Interlocked.Exchange(ref _aborted, 1) == 0)
                {
                    connection.Transport.Input.CancelPendingRead();
                    connection.Transport.Output.CancelPendingFlush();
                    connection.Abort(new ConnectionAbortedException("The CONNECT tunnel was reset."));
                }
            }

            public override ValueTask DisposeAsync()
            {
                owner.Finish();
                return default;
            }
        }
    }
}
