using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>The listener end of an internal connection, as Kestrel or a TCP proxy handler sees it.</summary>
internal sealed class InternalServerConnection : ConnectionContext,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature, IConnectionEndPointFeature
{
    private static long _lastId;

    private readonly InternalConnectionPair _pair;
    private readonly CancellationTokenSource _closed = new();
    private readonly FeatureCollection _features = new();
    private IDictionary<object, object?>? _items;
    private int _disposed;

    public InternalServerConnection(InternalConnectionPair pair, InternalConnectionInfo info)
    {
        _pair = pair;
        ConnectionId = "internal-" + Interlocked.Increment(ref _lastId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Transport = new DuplexPipe(pair.ClientToServer.Reader, pair.ServerToClient.Writer);
        LocalEndPoint = new InternalEndPoint(pair.Listener.Name, pair.Listener.BufferSizeKb);
        RemoteEndPoint = LocalEndPoint;
        ConnectionClosed = _closed.Token;

        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
        _features.Set<IInternalConnectionFeature>(info);
    }

    /// <summary>The most a relay puts into the output pipe per flush.</summary>
    public int MaxWriteSize => _pair.MaxWriteSize;

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features => _features;

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new Dictionary<object, object?>();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    /// <summary>Resets the connection: pending reads and flushes of both ends wake, and the client end reads a reset error.</summary>
    public override void Abort(ConnectionAbortedException abortReason) => _pair.Reset();

    /// <summary>Called when the client end closed both directions.</summary>
    public void SignalClosed()
    {
        if (!_closed.IsCancellationRequested)
        {
            ConnectionClosedSignal.Fire(_closed);
        }
    }

    public override ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Called by the handler once it stopped using the transport: it owns these halves.
            _pair.ServerToClient.Writer.Complete(_pair.IsReset
                ? new ConnectionResetException($"The internal connection to '{_pair.Listener.Name}' was reset by the listener.")
                : null);
            _pair.ClientToServer.Reader.Complete();
            SignalClosed();
            _pair.Listener.OnServerConnectionClosed(this);
        }
        return default;
    }
}
