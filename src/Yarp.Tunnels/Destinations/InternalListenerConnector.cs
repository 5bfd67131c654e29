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
/// to a synthetic host unique to (listener, endpoint id, passed metadata and state; see <see cref="ConnectTargetKey"/>),
/// so the connection pool never shares a connection between destinations or downstream states, and carries its target
/// in its options; <see cref="ConnectAsync"/> then opens the in-memory connection for that target. Every other host gets
/// a plain socket; a synthetic host is never looked up in DNS. Targets unused for <see cref="TargetIdleLifetime"/> are
/// forgotten, so per-downstream state cannot grow the table without bound; a request already rewritten keeps its target.
/// </summary>
internal sealed partial class InternalListenerConnector
{
    private const string SyntheticDomain = ".envoy-internal.invalid";

    /// <summary>Far longer than a connect takes and than SocketsHttpHandler keeps an idle pooled connection (1 minute).</summary>
    internal static readonly TimeSpan TargetIdleLifetime = TimeSpan.FromMinutes(10);

    private static readonly long _sweepIntervalMs = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;

    private static readonly HttpRequestOptionsKey<ConnectTarget> _targetOption = new("Yarp.Tunnels.ConnectTarget");

    private readonly ConcurrentDictionary<ConnectTargetKey, ConnectTarget> _targets = new();
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

        var key = new ConnectTargetKey(name, endpointId, metadata, state);
        var connectTarget = _targets.GetOrAdd(key, static (_, arg) => arg.self.CreateTarget(arg.name, arg.clusterId,
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
        // The connect reads the target from the request, so a sweep between here and there cannot lose it.
        request.Options.Set(_targetOption, connectTarget);
    }

    /// <summary>The <see cref="SocketsHttpHandler.ConnectCallback"/> for clusters that may hold envoy-internal destinations.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        if (context.InitialRequestMessage.Options.TryGetValue(_targetOption, out var target))
        {
            return Connect(target);
        }
        if (context.DnsEndPoint.Host.EndsWith(SyntheticDomain, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"'{context.DnsEndPoint.Host}' is a synthetic envoy-internal host name: it is connected only for " +
                "requests to envoy-internal:// addresses rewritten by Yarp.Tunnels, and never looked up in DNS.");
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

    private InternalStream Connect(ConnectTarget target)
    {
        try
        {
            return _registry.Connect(target.ListenerName, target.Options);
        }
        catch (Exception ex) when (ex is InternalListenerNotFoundException or InternalListenerBusyException)
        {
            _metrics.Scope(StatNames.ClusterFamily, target.ClusterId)[StatNames.UpstreamCxConnectFail].Increment();
            _metrics.Scope(StatNames.ListenerFamily, StatNames.InternalListener(target.ListenerName))[StatNames.ConnectFail].Increment();
            if (ex is InternalListenerBusyException)
            {
                Log.InternalListenerBusy(_logger, target.ListenerName, target.ClusterId, ex);
            }
            else
            {
                Log.InternalListenerMissing(_logger, target.ListenerName, target.ClusterId, ex);
            }
            throw;
        }
    }

    /// <summary>How many targets are remembered.</summary>
    internal int TargetCount => _targets.Count;

    /// <summary>Forgets targets last used before <paramref name="usedBefore"/> (an <see cref="Environment.TickCount64"/> value).</summary>
    internal void Sweep(long usedBefore)
    {
        foreach (var (key, target) in _targets)
        {
            if (target.LastUsed < usedBefore)
            {
                _targets.TryRemove(new KeyValuePair<ConnectTargetKey, ConnectTarget>(key, target));
            }
        }
    }

    private ConnectTarget CreateTarget(string name, string clusterId, InternalConnectOptions options)
    {
        var id = Interlocked.Increment(ref _lastTarget);
        return new ConnectTarget("t" + id.ToString("x", CultureInfo.InvariantCulture) + SyntheticDomain, name, clusterId, options);
    }

    private sealed record ConnectTarget(string Host, string ListenerName, string ClusterId, InternalConnectOptions Options)
    {
        public long LastUsed { get; set; } = Environment.TickCount64;
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.InternalListenerMissing, LogLevel.Warning, "Internal listener '{ListenerName}' is not bound; the request to cluster '{ClusterId}' cannot be forwarded.", EventName = nameof(EventIds.InternalListenerMissing))]
        public static partial void InternalListenerMissing(ILogger logger, string listenerName, string clusterId, Exception exception);

        [LoggerMessage(EventIds.InternalListenerBusy, LogLevel.Warning, "Internal listener '{ListenerName}' is busy (its accept backlog is full); the request to cluster '{ClusterId}' cannot be forwarded.", EventName = nameof(EventIds.InternalListenerBusy))]
        public static partial void InternalListenerBusy(ILogger logger, string listenerName, string clusterId, Exception exception);
    }
}
