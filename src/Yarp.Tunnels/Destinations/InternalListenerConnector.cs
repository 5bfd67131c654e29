using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Destinations;

/// <summary>
/// Carries YARP's HTTP client to envoy-internal destinations. A request to <c>envoy-internal://NAME/p</c> is rewritten
/// to a synthetic host unique to (listener, endpoint id, passed metadata and state), so the connection pool never
/// shares a connection between destinations or downstream states; <see cref="ConnectAsync"/> then opens the in-memory
/// connection for that host. Every other host gets a plain socket. Targets unused for <see cref="TargetIdleLifetime"/>
/// are forgotten, so per-downstream state cannot grow the tables without bound.
/// </summary>
internal sealed partial class InternalListenerConnector
{
    private const string SyntheticDomain = ".envoy-internal.invalid";

    /// <summary>Far longer than a connect takes and than SocketsHttpHandler keeps an idle pooled connection (1 minute).</summary>
    internal static readonly TimeSpan TargetIdleLifetime = TimeSpan.FromMinutes(10);

    private static readonly long _sweepIntervalMs = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;

    private readonly ConcurrentDictionary<string, ConnectTarget> _targetsByKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConnectTarget> _targetsByHost = new(StringComparer.OrdinalIgnoreCase);
    private readonly InternalListenerRegistry _registry;
    private readonly TunnelMetrics _metrics;
    private readonly ILogger<InternalListenerConnector> _logger;
    private int _lastTarget;
    private long _lastSweep = Environment.TickCount64;

    public InternalListenerConnector(InternalListenerRegistry registry, TunnelMetrics metrics, ILogger<InternalListenerConnector> logger)
    {
        _registry = registry;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Rewrites an envoy-internal request in place; other requests are left alone.</summary>
    public void Rewrite(HttpRequestMessage request, string clusterId)
    {
        var uri = request.RequestUri;
        if (uri is null || !InternalAddress.IsInternal(uri.OriginalString))
        {
            return;
        }
        if (!InternalAddress.TryParse(uri.OriginalString, out var name, out var pathAndQuery, out var error))
        {
            throw new ArgumentException($"The destination address '{uri.OriginalString}' of cluster '{clusterId}' is invalid: {error}.");
        }

        request.Options.TryGetValue(InternalRequestTarget.OptionsKey, out var target);
        var endpointId = target?.DestinationMetadata?.GetValueOrDefault(InternalUpstreamMetadata.EndpointId) ?? target?.DestinationId;
        var metadata = PassthroughMetadata.Collect(clusterId, target?.ClusterMetadata, target?.DestinationMetadata, _metrics);
        var state = target?.State;

        var key = string.Join('\n', name, endpointId, Fingerprint.Of(metadata, static v => v), SharedStateCollector.Fingerprint(state));
        var connectTarget = _targetsByKey.GetOrAdd(key, static (_, arg) => arg.self.CreateTarget(arg.name, arg.clusterId,
            new InternalConnectOptions { EndpointId = arg.endpointId, Metadata = arg.metadata, State = arg.state }),
            (self: this, name, clusterId, endpointId, metadata, state));
        var now = Environment.TickCount64;
        connectTarget.LastUsed = now;
        var lastSweep = Volatile.Read(ref _lastSweep);
        if (now - lastSweep > _sweepIntervalMs && Interlocked.CompareExchange(ref _lastSweep, now, lastSweep) == lastSweep)
        {
            Sweep(now - (long)TargetIdleLifetime.TotalMilliseconds);
        }

        request.RequestUri = new Uri("http://" + connectTarget.Host + pathAndQuery);
        request.Headers.Host ??= name;
    }

    /// <summary>The <see cref="SocketsHttpHandler.ConnectCallback"/> for clusters that may hold envoy-internal destinations.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        if (_targetsByHost.TryGetValue(context.DnsEndPoint.Host, out var target))
        {
            try
            {
                return _registry.Connect(target.ListenerName, target.Options);
            }
            catch (InternalListenerNotFoundException ex)
            {
                _metrics.Scope(StatNames.ClusterFamily, target.ClusterId)[StatNames.UpstreamCxConnectFail].Increment();
                _metrics.Scope(StatNames.ListenerFamily, StatNames.InternalListener(target.ListenerName))[StatNames.ConnectFail].Increment();
                Log.InternalListenerMissing(_logger, target.ListenerName, target.ClusterId, ex);
                throw;
            }
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>How many targets are remembered.</summary>
    internal int TargetCount => _targetsByKey.Count;

    /// <summary>Forgets targets last used before <paramref name="usedBefore"/> (an <see cref="Environment.TickCount64"/> value).</summary>
    internal void Sweep(long usedBefore)
    {
        foreach (var (key, target) in _targetsByKey)
        {
            if (target.LastUsed < usedBefore && _targetsByKey.TryRemove(new KeyValuePair<string, ConnectTarget>(key, target)))
            {
                _targetsByHost.TryRemove(target.Host, out _);
            }
        }
    }

    private ConnectTarget CreateTarget(string name, string clusterId, InternalConnectOptions options)
    {
        var id = Interlocked.Increment(ref _lastTarget);
        var target = new ConnectTarget("t" + id.ToString("x", CultureInfo.InvariantCulture) + SyntheticDomain, name, clusterId, options);
        _targetsByHost[target.Host] = target;
        return target;
    }

    private sealed record ConnectTarget(string Host, string ListenerName, string ClusterId, InternalConnectOptions Options)
    {
        public long LastUsed { get; set; } = Environment.TickCount64;
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.InternalListenerMissing, LogLevel.Warning, "Internal listener '{ListenerName}' is not bound; the request to cluster '{ClusterId}' cannot be forwarded.", EventName = nameof(EventIds.InternalListenerMissing))]
        public static partial void InternalListenerMissing(ILogger logger, string listenerName, string clusterId, Exception exception);
    }
}
