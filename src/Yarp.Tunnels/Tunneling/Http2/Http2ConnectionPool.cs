using Microsoft.Extensions.Logging;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// The HTTP/2 client's connections, shared per address and <see cref="TunnelTransportOptions"/>: a stream goes on the first
/// connection with room (its <see cref="TunnelTransportOptions.MaxTunnelsPerConnection"/> and the peer's
/// SETTINGS_MAX_CONCURRENT_STREAMS); when none has room, a new connection opens, and streams asked for meanwhile wait
/// for it rather than opening their own. A connection that received GOAWAY takes no new streams and leaves the pool
/// once its streams ended.
/// </summary>
internal sealed class Http2ConnectionPool(UpstreamConnectors connectors, Http2ClientOptions options, ILogger logger, TimeProvider timeProvider) : IAsyncDisposable
{
    // A stream whose connection turned out full (a lower peer limit learnt from its SETTINGS) tries again this many times.
    private const int MaxAttempts = 8;

    private readonly Dictionary<(string Address, TunnelTransportOptions Endpoint), List<Http2Connection>> _pools = [];
    private bool _disposed;

    /// <summary>The connections open or opening (tests and benchmarks count them).</summary>
    public int ConnectionCount
    {
        get
        {
            lock (_pools)
            {
                return _pools.Values.Sum(l => l.Count);
            }
        }
    }

    /// <summary>The streams open on all connections.</summary>
    public int ActiveStreams
    {
        get
        {
            lock (_pools)
            {
                return _pools.Values.Sum(l => l.Sum(c => c.ActiveStreams));
            }
        }
    }

    /// <summary>Opens a stream to <paramref name="request"/>'s address and sends <paramref name="fields"/> as its HEADERS; the response is on the stream.</summary>
    /// <exception cref="Http2ConnectException">No connection could be opened.</exception>
    /// <exception cref="Http2ConnectionException">The connection failed while the stream opened.</exception>
    /// <param name="request">The destination and connect settings (the first stream's request opens a connection).</param>
    /// <param name="endpoint">TLS and the tunnels-per-connection limit; connections are shared per address and endpoint.</param>
    /// <param name="fields">The request's pseudo-headers then headers.</param>
    /// <param name="extendedConnect">The stream is an extended CONNECT: the peer must have sent SETTINGS_ENABLE_CONNECT_PROTOCOL.</param>
    /// <param name="cancellationToken">Abandons the wait for a connection and the HEADERS write.</param>
    public async ValueTask<Http2Stream> OpenStreamAsync(UpstreamRequest request, TunnelTransportOptions endpoint, IReadOnlyList<KeyValuePair<string, string>> fields,
        bool extendedConnect, CancellationToken cancellationToken)
    {
        var limit = Math.Max(endpoint.MaxTunnelsPerConnection, 1);
        for (var attempt = 1; ; attempt++)
        {
            var connection = Reserve(request, endpoint, limit);
            try
            {
                await connection.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                connection.ReleaseReservation();
                if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                throw ex as Http2ConnectException ?? new Http2ConnectException(UpstreamFailure.ConnectFailed, ex.Message);
            }
            if (extendedConnect && !connection.AllowsExtendedConnect)
            {
                connection.ReleaseReservation();
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"'{request.Address}' did not enable extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL).");
            }
            if (await connection.OpenStreamAsync(fields, limit, cancellationToken).ConfigureAwait(false) is { } stream)
            {
                return stream;
            }
            if (attempt == MaxAttempts)
            {
                throw new Http2ConnectionException(Http2ErrorCode.RefusedStream, $"No HTTP/2 connection to '{request.Address}' had room for a stream.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<Http2Connection> all;
        lock (_pools)
        {
            _disposed = true;
            all = [.. _pools.Values.SelectMany(l => l)];
            _pools.Clear();
        }
        foreach (var connection in all)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private Http2Connection Reserve(UpstreamRequest request, TunnelTransportOptions endpoint, int limit)
    {
        var key = (request.Address, endpoint);
        lock (_pools)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_pools.TryGetValue(key, out var connections))
            {
                _pools[key] = connections = [];
            }
            foreach (var existing in connections)
            {
                if (existing.TryReserve(limit))
                {
                    return existing;
                }
            }
            var connection = new Http2Connection(request.Address, options, logger, timeProvider);
            connection.TryReserve(limit);
            connections.Add(connection);
            connection.Completion.ContinueWith(_ => Remove(key, connection), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            connection.Start(token => Http2Transport.ConnectAsync(connectors, request, endpoint, token), request.ConnectTimeout);
            return connection;
        }
    }

    private void Remove((string, TunnelTransportOptions) key, Http2Connection connection)
    {
        lock (_pools)
        {
            if (_pools.TryGetValue(key, out var connections) && connections.Remove(connection) && connections.Count == 0)
            {
                _pools.Remove(key);
            }
        }
    }
}
