using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.Utilities;

/// <summary>
/// What a connection accepted by one of our transports shares with Kestrel's own <c>TransportConnection</c>: one feature
/// collection holding the standard connection features (the connection itself implements them), an id, the items and
/// the connection-closed signal the transport fires.
/// </summary>
internal abstract class ServerConnection : ConnectionContext,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature, IConnectionEndPointFeature
{
    private static long _lastId;

    private readonly ConnectionFeatureCollection _features = new();
    private IDictionary<object, object?>? _items;

    /// <param name="idPrefix">The transport's name, ahead of a process-wide sequence number in <see cref="ConnectionId"/>.</param>
    protected ServerConnection(string idPrefix)
    {
        ConnectionId = idPrefix + "-" + Interlocked.Increment(ref _lastId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        ConnectionClosed = Closed.Token;
        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features => _features;

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new Dictionary<object, object?>();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; } = null!;

    public override CancellationToken ConnectionClosed { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    /// <summary>Canceled (with <see cref="ConnectionClosedSignal.Fire"/>) once the transport knows the connection closed.</summary>
    protected CancellationTokenSource Closed { get; } = new();
}
