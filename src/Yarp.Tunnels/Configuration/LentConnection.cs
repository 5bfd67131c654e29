using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// A socket connection an HTTP listener accepted, lent to the hidden endpoint that serves it: everything is delegated
/// (one feature collection, so Kestrel's connection features are set once, by the endpoint that serves it), and
/// disposal only reports that the endpoint is done; the listener disposes the socket connection itself.
/// </summary>
internal sealed class LentConnection(ConnectionContext inner) : ConnectionContext
{
    private readonly TaskCompletionSource _returned = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the endpoint has finished with the connection.</summary>
    public Task Returned => _returned.Task;

    public override string ConnectionId { get => inner.ConnectionId; set => inner.ConnectionId = value; }

    public override IFeatureCollection Features => inner.Features;

    public override IDictionary<object, object?> Items { get => inner.Items; set => inner.Items = value; }

    public override IDuplexPipe Transport { get => inner.Transport; set => inner.Transport = value; }

    public override CancellationToken ConnectionClosed { get => inner.ConnectionClosed; set => inner.ConnectionClosed = value; }

    public override EndPoint? LocalEndPoint { get => inner.LocalEndPoint; set => inner.LocalEndPoint = value; }

    public override EndPoint? RemoteEndPoint { get => inner.RemoteEndPoint; set => inner.RemoteEndPoint = value; }

    public override void Abort(ConnectionAbortedException abortReason) => inner.Abort(abortReason);

    public override ValueTask DisposeAsync()
    {
        _returned.TrySetResult();
        return default;
    }
}
