using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// Lends an accepted connection to another Kestrel endpoint (e.g. the HTTP/2 endpoint after protocol sniffing) without
/// copying bytes: everything is delegated, and disposal only reports that the borrower is done.
/// </summary>
internal sealed class HandoffConnection : ConnectionContext
{
    private readonly ConnectionContext _inner;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HandoffConnection(ConnectionContext inner)
    {
        _inner = inner;
    }

    /// <summary>Completes when the borrowing endpoint has finished with the connection.</summary>
    public Task Completion => _done.Task;

    public override string ConnectionId { get => _inner.ConnectionId; set => _inner.ConnectionId = value; }

    public override IFeatureCollection Features => _inner.Features;

    public override IDictionary<object, object?> Items { get => _inner.Items; set => _inner.Items = value; }

    public override IDuplexPipe Transport { get => _inner.Transport; set => _inner.Transport = value; }

    public override CancellationToken ConnectionClosed { get => _inner.ConnectionClosed; set => _inner.ConnectionClosed = value; }

    public override EndPoint? LocalEndPoint { get => _inner.LocalEndPoint; set => _inner.LocalEndPoint = value; }

    public override EndPoint? RemoteEndPoint { get => _inner.RemoteEndPoint; set => _inner.RemoteEndPoint = value; }

    public override void Abort(ConnectionAbortedException abortReason) => _inner.Abort(abortReason);

    public override ValueTask DisposeAsync()
    {
        _done.TrySetResult();
        return default;
    }
}
