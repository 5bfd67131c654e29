using Microsoft.Extensions.Hosting;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.Admin;

/// <summary>
/// The server state <c>/server_info</c> and <c>/ready</c> report, as Envoy derives it: <c>PRE_INITIALIZING</c> until the
/// host has started, then <c>LIVE</c>, or <c>DRAINING</c> while the health check is failed (<c>/healthcheck/fail</c>),
/// after <c>/drain_listeners</c> and once the host is stopping.
/// </summary>
internal sealed class AdminServerState(IHostApplicationLifetime lifetime, ListenerManager listeners, TimeProvider timeProvider)
{
    private readonly long _started = timeProvider.GetTimestamp();
    private volatile bool _healthCheckFailed;

    public const string Live = "LIVE";
    public const string Draining = "DRAINING";
    public const string PreInitializing = "PRE_INITIALIZING";

    public string State =>
        !lifetime.ApplicationStarted.IsCancellationRequested ? PreInitializing
        : _healthCheckFailed || listeners.ListenersDrained || lifetime.ApplicationStopping.IsCancellationRequested ? Draining
        : Live;

    /// <summary>How long this host has run (since its services were built).</summary>
    public TimeSpan Uptime => timeProvider.GetElapsedTime(_started);

    /// <summary><c>/healthcheck/fail</c> (true) and <c>/healthcheck/ok</c> (false).</summary>
    public bool HealthCheckFailed { get => _healthCheckFailed; set => _healthCheckFailed = value; }
}
