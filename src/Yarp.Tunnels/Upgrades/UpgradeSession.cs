using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// The life of one allowed upgrade once the downstream side is accepted: counts it in
/// <c>downstream_cx_upgrades_total/active</c> (tagged <c>upgrade_type</c>), runs an activity and the route's idle
/// timeout over the upgraded stream, and undoes the gauge exactly once when the stream or the request ends.
/// </summary>
internal sealed partial class UpgradeSession
{
    private const int Pending = 0;
    private const int Established = 1;
    private const int Ended = 2;

    private readonly HttpContext _context;
    private readonly StatScope _stats;
    private readonly IUpgradeRequestFeature _request;
    private readonly string? _routeId;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _endLock = new();
    private IdleTimer? _idleTimer;
    private Activity? _activity;
    private int _state;

    public UpgradeSession(HttpContext context, StatScope stats, IUpgradeRequestFeature request, string? routeId, TimeProvider timeProvider, ILogger logger)
    {
        _context = context;
        _stats = stats;
        _request = request;
        _routeId = routeId;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Counts the accepted upgrade and returns <paramref name="stream"/> wrapped for idle tracking.</summary>
    public Stream Start(Stream stream)
    {
        if (!Establish(out _))
        {
            return stream;
        }
        if (_request.IdleTimeout is { } idle)
        {
            _idleTimer = new IdleTimer(idle, _timeProvider, OnIdle);
        }
        return new UpgradedStream(stream, this);
    }

    /// <summary>
    /// Counts the accepted upgrade and starts its activity, for a caller that relays without a stream wrapper and runs
    /// the route's idle timeout itself (CONNECT tunnels); false if the session already started or ended.
    /// </summary>
    public bool Establish(out Activity? activity)
    {
        if (Interlocked.CompareExchange(ref _state, Established, Pending) != Pending)
        {
            activity = null;
            return false;
        }
        _stats[StatNames.DownstreamCxUpgradesTotal].Increment();
        _stats[StatNames.DownstreamCxUpgradesActive].Increment();
        _activity = TunnelsActivitySource.Instance.StartActivity("Yarp.Tunnels.Upgrade", ActivityKind.Internal);
        if (_activity is not null)
        {
            _activity.DisplayName = "upgrade " + _request.UpgradeType;
            _activity.SetTag("yarp.tunnels.upgrade.type", _request.UpgradeType);
            _activity.SetTag("yarp.tunnels.upgrade.kind", _request.Kind.ToString());
            _activity.SetTag("yarp.tunnels.route_id", _routeId);
        }
        activity = _activity;
        return true;
    }

    /// <summary>Records a byte moved on the upgraded stream.</summary>
    public void Touch() => _idleTimer?.Touch();

    /// <summary>Ends the session (idempotent): the gauge goes down once, the timer and activity stop.</summary>
    public void End()
    {
        // Under the lock the idle timer cannot abort a context that Kestrel already reuses for another request.
        lock (_endLock)
        {
            if (Interlocked.Exchange(ref _state, Ended) != Established)
            {
                return;
            }
        }
        _stats[StatNames.DownstreamCxUpgradesActive].Decrement();
        _idleTimer?.Dispose();
        _activity?.Dispose();
    }

    private void OnIdle()
    {
        lock (_endLock)
        {
            if (Volatile.Read(ref _state) != Established)
            {
                return;
            }
            _stats[StatNames.DownstreamRqIdleTimeout].Increment();
            _activity?.SetStatus(ActivityStatusCode.Error, "idle timeout");
            Log.IdleTimeout(_logger, _request.UpgradeType, _routeId, _request.IdleTimeout!.Value);
            // Aborting resets the HTTP/1.1 connection or the HTTP/2 stream, which ends both copy directions.
            _context.Abort();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.UpgradeIdleTimeout, LogLevel.Debug, "Upgraded '{UpgradeType}' stream of route '{RouteId}' closed after {IdleTimeout} idle.")]
        public static partial void IdleTimeout(ILogger logger, string upgradeType, string? routeId, TimeSpan idleTimeout);
    }
}
