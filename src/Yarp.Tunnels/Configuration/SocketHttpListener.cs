using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// A started HTTP socket listener: accepts, marks each connection with the listener's identity and lends it to the
/// listener's hidden endpoint; the connection stays ours, so draining it is ours too (Kestrel's endpoint reload would
/// cut it at a fixed 5 s), and the hidden endpoint is removed only once drained.
/// </summary>
internal sealed partial class SocketHttpListener : IActiveListener
{
    private static readonly TimeSpan AbortGrace = TimeSpan.FromSeconds(5);

    private readonly IConnectionListener _listener;
    private readonly HttpListenerFeature _feature;
    private readonly HiddenHttpEndpoint _endpoint;
    private readonly HiddenHttpEndpoints _endpoints;
    private readonly ListenerStats _stats;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<LentConnection, byte> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private TaskCompletionSource? _drained;

    public SocketHttpListener(IConnectionListener listener, HttpListenerFeature feature, HiddenHttpEndpoint endpoint, HiddenHttpEndpoints endpoints,
        ListenerStats stats, ILogger logger)
    {
        _listener = listener;
        _feature = feature;
        _endpoint = endpoint;
        _endpoints = endpoints;
        _stats = stats;
        _logger = logger;
        EndPoints = [listener.EndPoint];
        _acceptLoop = AcceptLoopAsync();
    }

    public IReadOnlyList<EndPoint> EndPoints { get; }

    public bool IsReady => _endpoint.Bound.IsCompletedSuccessfully;

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            ConnectionContext? connection;
            try
            {
                connection = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.AcceptFailed(_logger, _feature.ListenerName, ex);
                continue;
            }
            if (connection is null)
            {
                return;
            }
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(ConnectionContext connection)
    {
        connection.Features.Set<IHttpListenerFeature>(_feature);
        var lent = new LentConnection(connection);
        _connections.TryAdd(lent, 0);
        _stats.ConnectionOpened();
        try
        {
            // Only until Kestrel binds this listener's hidden endpoint (at startup, or just after the reload that added it).
            var endpoint = await _endpoint.Bound.WaitAsync(_stopping.Token).ConfigureAwait(false);
            if (endpoint.TryAccept(lent))
            {
                await lent.Returned.ConfigureAwait(false);
            }
            else
            {
                Refuse(connection, "the HTTP endpoint serving it is not bound");
            }
        }
        catch (InternalListenerBusyException ex)
        {
            // Like a full socket backlog: Kestrel is not picking up connections as fast as they arrive.
            Refuse(connection, ex.Message);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        finally
        {
            _stats.ConnectionClosed();
            await connection.DisposeAsync().ConfigureAwait(false);
            if (_connections.TryRemove(lent, out _) && _connections.IsEmpty)
            {
                Volatile.Read(ref _drained)?.TrySetResult();
            }
        }
    }

    public async Task DrainAsync(TimeSpan timeout, CancellationToken abort)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        // Socket listeners unbind synchronously: the port is free when this returns.
        await _listener.UnbindAsync(CancellationToken.None).ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);
        foreach (var connection in _connections.Keys)
        {
            // Kestrel's graceful close: GOAWAY on HTTP/2, Connection: close (or closing an idle connection) on HTTP/1.1.
            connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        }
        if (!_connections.IsEmpty)
        {
            await Task.WhenAny(drained.Task, Task.Delay(timeout, abort)).ConfigureAwait(false);
        }
        if (!_connections.IsEmpty)
        {
            _stopping.Cancel();
            foreach (var connection in _connections.Keys)
            {
                connection.Abort(new ConnectionAbortedException($"The listener '{_feature.ListenerName}' was removed and its drain timeout elapsed."));
            }
            // Bounded: a reset connection ends as soon as its reader sees the abort.
            await Task.WhenAny(drained.Task, Task.Delay(AbortGrace, CancellationToken.None)).ConfigureAwait(false);
        }
        await _listener.DisposeAsync().ConfigureAwait(false);
        // Nothing is left on the hidden endpoint: Kestrel unbinds it at once.
        _endpoints.Remove(_endpoint);
        _feature.Certificate?.Dispose();
    }

    public Task StopAsync(CancellationToken cancellationToken) => DrainAsync(Timeout.InfiniteTimeSpan, cancellationToken);

    private void Refuse(ConnectionContext connection, string reason)
    {
        Log.HandOffRefused(_logger, _feature.ListenerName, reason);
        connection.Abort(new ConnectionAbortedException($"Listener '{_feature.ListenerName}' refused the connection: {reason}."));
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.ListenerAcceptFailed, LogLevel.Warning, "Listener '{Name}': accept failed.")]
        public static partial void AcceptFailed(ILogger logger, string name, Exception exception);

        [LoggerMessage(EventIds.ListenerHandOffRefused, LogLevel.Warning, "Listener '{Name}' refused a connection: {Reason}.")]
        public static partial void HandOffRefused(ILogger logger, string name, string reason);
    }
}
