using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Upgrades;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// Runs the listeners of <c>ReverseProxy:Listeners</c> (and of <see cref="TunnelListenerOptions"/>): validates them,
/// binds TCP proxy sockets, registers internal listener names, projects HTTP sockets into Kestrel, and applies
/// reloads live. A removed listener stops accepting at once and drains its open connections.
/// </summary>
internal sealed partial class ListenerManager : IHostedLifecycleService, IDisposable
{
    private readonly IServiceProvider _services;
    private readonly IConfiguration? _section;
    private readonly TunnelListenerOptions _codeListeners;
    private readonly InternalListenerRegistry _registry;
    private readonly TunnelMetrics _metrics;
    private readonly CodeBoundInternalListeners _codeBound;
    private readonly ILogger<ListenerManager> _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, RunningListener> _running = new(StringComparer.OrdinalIgnoreCase);
    private IReadOnlyList<ListenerSpec>? _current;
    private IDisposable? _reloadSubscription;

    public ListenerManager(IServiceProvider services, TunnelsConfigurationSource source, IOptions<TunnelListenerOptions> codeListeners,
        InternalListenerRegistry registry, TunnelMetrics metrics, CodeBoundInternalListeners codeBound, ILogger<ListenerManager> logger)
    {
        _services = services;
        _section = source.Listeners;
        _codeListeners = codeListeners.Value;
        _registry = registry;
        _metrics = metrics;
        _codeBound = codeBound;
        _logger = logger;
        HostId = Guid.NewGuid().ToString("N")[..12];
        Projection = new KestrelEndpointProjection(services.GetRequiredService<IConfiguration>().GetSection("Kestrel"));
    }

    /// <summary>Distinguishes this host's hidden internal endpoints in a shared registry.</summary>
    public string HostId { get; }

    public KestrelEndpointProjection Projection { get; }

    /// <summary>Whether this host has any listener configuration at all (then Kestrel's endpoints come from it).</summary>
    public bool HasListeners => _codeListeners.Listeners.Count > 0 || (_section?.GetChildren().Any() ?? false);

    public string ProfileName(string profile) => $"yarp-tunnels.{HostId}.{profile}";

    /// <summary>The validated listeners; validates on first use and throws one exception listing every error.</summary>
    public IReadOnlyList<ListenerSpec> EnsureValidated()
    {
        if (_current is { } current)
        {
            return current;
        }
        // Resolving Kestrel's options runs ListenInternal calls, which record code-bound names used below.
        _ = _services.GetService<IOptions<KestrelServerOptions>>()?.Value;
        lock (_lock)
        {
            if (_current is null)
            {
                var errors = new List<string>();
                var specs = Load(errors);
                _services.GetService<UpgradePolicyManager>()?.Load(errors);
                if (errors.Count > 0)
                {
                    throw new InvalidOperationException("The Yarp.Tunnels configuration is invalid:" + Environment.NewLine
                        + string.Join(Environment.NewLine, errors.Select(e => " - " + e)));
                }
                _current = specs;
                Projection.Publish(specs);
            }
            return _current;
        }
    }

    /// <summary>Whether <paramref name="name"/> is an internal listener this host declares or any host has bound.</summary>
    public bool IsKnownInternalListener(string name) =>
        _codeBound.Contains(name) || _registry.Contains(name) || (_current ?? []).Any(l => l.InternalName == name);

    /// <summary>Runs before any hosted service starts, so Kestrel sees the projected endpoints when it binds.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        var specs = EnsureValidated();
        lock (_lock)
        {
            Apply(specs, throwOnBindFailure: true);
        }
        if (_section is not null)
        {
            _reloadSubscription = ChangeToken.OnChange(_section.GetReloadToken, Reload);
        }
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The endpoint a running socket TCP proxy listener is bound to (port 0 resolved), or null.</summary>
    internal System.Net.IPEndPoint? BoundTcpProxyEndPoint(string listenerName)
    {
        lock (_lock)
        {
            return _running.TryGetValue(listenerName, out var running) ? running.BoundEndPoint : null;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _reloadSubscription?.Dispose();
        List<RunningListener> running;
        lock (_lock)
        {
            running = [.. _running.Values];
            _running.Clear();
        }
        await Task.WhenAll(running.Select(r => r.StopAsync(TimeSpan.Zero))).ConfigureAwait(false);
    }

    public void Dispose() => _reloadSubscription?.Dispose();

    private List<ListenerSpec> Load(List<string> errors)
    {
        var listeners = ListenerConfigReader.Read(_section, errors);
        listeners.AddRange(_codeListeners.Listeners);
        var clusters = _services.GetServices<IProxyConfigProvider>().SelectMany(p => p.GetConfig().Clusters ?? []).ToList();
        return ListenerConfigValidator.Validate(listeners, clusters, name => _codeBound.Contains(name) || _registry.Contains(name), errors);
    }

    private void Reload()
    {
        try
        {
            var errors = new List<string>();
            List<ListenerSpec> specs;
            lock (_lock)
            {
                specs = Load(errors);
                if (errors.Count > 0)
                {
                    // Like YARP: an invalid reload is logged and the running configuration stays.
                    Log.ConfigInvalid(_logger, string.Join(Environment.NewLine, errors));
                    return;
                }
                _current = specs;
                Apply(specs, throwOnBindFailure: false);
            }
            Projection.Publish(specs);
        }
        catch (Exception ex)
        {
            Log.ConfigInvalid(_logger, ex.ToString());
        }
    }

    /// <summary>Starts added listeners and stops removed or changed ones (they drain in the background).</summary>
    private void Apply(IReadOnlyList<ListenerSpec> specs, bool throwOnBindFailure)
    {
        var wanted = specs.ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, running) in _running.ToList())
        {
            if (!wanted.TryGetValue(name, out var spec) || spec != running.Spec)
            {
                _running.Remove(name);
                Log.ListenerRemoved(_logger, name, running.Spec.DrainTimeout);
                _ = DrainAsync(running);
            }
        }
        foreach (var spec in specs)
        {
            if (_running.ContainsKey(spec.Name))
            {
                continue;
            }
            try
            {
                _running[spec.Name] = Start(spec);
                Log.ListenerAdded(_logger, spec.Name, spec.Config.Address ?? "");
            }
            catch (Exception ex)
            {
                Log.BindFailed(_logger, spec.Name, spec.Config.Address ?? "", ex);
                if (throwOnBindFailure)
                {
                    throw;
                }
            }
        }
    }

    private async Task DrainAsync(RunningListener running)
    {
        await running.StopAsync(running.Spec.DrainTimeout).ConfigureAwait(false);
        Log.ListenerDrained(_logger, running.Spec.Name);
    }

    private RunningListener Start(ListenerSpec spec)
    {
        switch (spec.Kind)
        {
            case ListenerKind.SocketTcpProxy:
            {
                var tcpProxy = _services.GetRequiredService<TcpProxyServices>();
                var handler = new TcpProxyHandler(spec.Name, spec.Config.TcpProxy!, tcpProxy);
                var listener = new SocketTcpListener(spec.SocketEndPoint!, handler, _metrics.Listener(spec.Name), tcpProxy.TimeProvider, _logger);
                return new RunningListener(spec, listener.StopAsync, listener.EndPoint);
            }
            case ListenerKind.InternalTcpProxy:
            case ListenerKind.InternalHttp:
            {
                IInternalConnectionAcceptor acceptor = spec.Kind == ListenerKind.InternalTcpProxy
                    ? new TcpProxyAcceptor(new TcpProxyHandler(spec.Name, spec.Config.TcpProxy!, _services.GetRequiredService<TcpProxyServices>()))
                    : new ProfileAcceptor(_registry, ProfileName(ProfileFor(spec.Protocols)), new HttpListenerFeature(spec.Name, spec.StatPrefix));
                var registration = new InternalListenerRegistration(spec.InternalName!, spec.Config.BufferSizeKb ?? InternalEndPoint.DefaultBufferSizeKb,
                    acceptor, _metrics.Listener(StatNames.InternalListener(spec.InternalName!)));
                _registry.Add(registration);
                return new RunningListener(spec, drain =>
                {
                    _registry.Remove(registration);
                    return registration.DrainAsync(drain);
                });
            }
            default:
                // Kestrel binds and unbinds HTTP socket listeners through the projection.
                return new RunningListener(spec, _ => Task.CompletedTask);
        }
    }

    internal static string ProfileFor(ListenerProtocols protocols) => protocols switch
    {
        ListenerProtocols.Http2 => "h2",
        ListenerProtocols.Auto => "auto",
        _ => "h1",
    };

    private sealed record RunningListener(ListenerSpec Spec, Func<TimeSpan, Task> StopAsync, System.Net.IPEndPoint? BoundEndPoint = null);

    /// <summary>Routes a config-declared internal HTTP listener's connections to this host's Kestrel endpoint for its protocols.</summary>
    private sealed class ProfileAcceptor(InternalListenerRegistry registry, string profileName, HttpListenerFeature listener) : IInternalConnectionAcceptor
    {
        public bool TryAccept(Microsoft.AspNetCore.Connections.ConnectionContext connection)
        {
            connection.Features.Set<IHttpListenerFeature>(listener);
            return registry.TryGet(profileName, out var profile) && profile.Acceptor.TryAccept(connection);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.ListenerAdded, LogLevel.Information, "Listener '{Name}' started on {Address}.")]
        public static partial void ListenerAdded(ILogger logger, string name, string address);

        [LoggerMessage(EventIds.ListenerRemoved, LogLevel.Information, "Listener '{Name}' removed; draining for up to {DrainTimeout}.")]
        public static partial void ListenerRemoved(ILogger logger, string name, TimeSpan drainTimeout);

        [LoggerMessage(EventIds.ListenerDrained, LogLevel.Information, "Listener '{Name}' drained.")]
        public static partial void ListenerDrained(ILogger logger, string name);

        [LoggerMessage(EventIds.ListenerConfigInvalid, LogLevel.Error, "The reloaded listener configuration is invalid and was not applied:\n{Errors}")]
        public static partial void ConfigInvalid(ILogger logger, string errors);

        [LoggerMessage(EventIds.ListenerBindFailed, LogLevel.Error, "Listener '{Name}' could not bind {Address}.")]
        public static partial void BindFailed(ILogger logger, string name, string address, Exception exception);
    }
}
