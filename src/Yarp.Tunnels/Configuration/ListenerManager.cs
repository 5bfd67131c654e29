using System.Collections.Concurrent;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.Tunnels.Admin;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.ResponseHeaders;
using Yarp.Tunnels.Upgrades;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// Runs the listeners of <c>ReverseProxy:Listeners</c> (and of <see cref="TunnelListenerOptions"/>): validates them,
/// diffs each reload against what runs, and orders the changes: removed and changed listeners stop accepting (and
/// drain in the background) before added ones bind, so a port can change kind in one reload. Each kind is started by
/// its own <see cref="IListenerHandler"/>.
/// </summary>
internal sealed partial class ListenerManager : IHostedLifecycleService, IListenerStateProvider, IDisposable
{
    private readonly IServiceProvider _services;
    private readonly TunnelsConfigurationSource _source;
    private readonly TunnelListenerOptions _codeListeners;
    private readonly InternalListenerRegistry _registry;
    private readonly CodeBoundInternalListeners _codeBound;
    private readonly Dictionary<ListenerKind, IListenerHandler> _handlers;
    private readonly ILogger<ListenerManager> _logger;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _applyLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, Entry> _running = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<Entry> _draining = [];
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly TunnelAdminOptions _adminOptions;
    private IReadOnlyList<ListenerSpec>? _current;
    private volatile AdminConfig? _admin;
    private volatile bool _drainedAll;
    private IDisposable? _reloadSubscription;

    public ListenerManager(IServiceProvider services, TunnelsConfigurationSource source, IOptions<TunnelListenerOptions> codeListeners,
        IOptions<TunnelAdminOptions> adminOptions, InternalListenerRegistry registry, CodeBoundInternalListeners codeBound, HiddenHttpEndpoints endpoints,
        IEnumerable<IListenerHandler> handlers, ILogger<ListenerManager> logger)
    {
        _services = services;
        _source = source;
        _codeListeners = codeListeners.Value;
        _adminOptions = adminOptions.Value;
        _registry = registry;
        _codeBound = codeBound;
        _handlers = handlers.ToDictionary(h => h.Kind);
        _logger = logger;
        Projection = new KestrelEndpointProjection(services.GetRequiredService<IConfiguration>().GetSection("Kestrel"), endpoints);
    }

    public KestrelEndpointProjection Projection { get; }

    /// <summary>The admin endpoint of the configuration that runs, or null when there is none.</summary>
    public AdminConfig? Admin => _admin;

    /// <summary>Whether <see cref="DrainListenersAsync"/> ran: every listener but the admin's is drained for good.</summary>
    public bool ListenersDrained => _drainedAll;

    /// <summary>
    /// Envoy's <c>/drain_listeners</c>: every listener except the admin's stops accepting before this returns, then drains
    /// in the background as a removed listener does (HTTP/2 <c>GOAWAY</c>, HTTP/1.1 <c>Connection: close</c>, reset at its
    /// <c>DrainTimeout</c>). Later reloads bind nothing but the admin listener.
    /// </summary>
    public async Task DrainListenersAsync()
    {
        _drainedAll = true;
        await _applyLock.WaitAsync(_stopping.Token).ConfigureAwait(false);
        try
        {
            await ApplyAsync(EnsureValidated(), throwOnBindFailure: false, _stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            _applyLock.Release();
        }
    }

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
                _services.GetService<ResponseHeadersManager>()?.Load(errors);
                if (errors.Count > 0)
                {
                    throw new InvalidOperationException("The Yarp.Tunnels configuration is invalid:" + Environment.NewLine
                        + string.Join(Environment.NewLine, errors.Select(e => " - " + e)));
                }
                _current = specs;
                if (specs.Count > 0)
                {
                    // With listeners, Kestrel's endpoints come from them (it ignores --urls); without, Kestrel's own apply.
                    Projection.IncludeSharedEndpoints();
                }
            }
            return _current;
        }
    }

    /// <summary>
    /// Whether <paramref name="name"/> is an internal listener this host declares (now, or in the configuration being
    /// reloaded) or any host has bound.
    /// </summary>
    public bool IsKnownInternalListener(string name) =>
        _codeBound.Contains(name) || _registry.Contains(name) || (_current ?? []).Any(l => l.InternalName == name)
        || _source.DeclaresInternalListener(name);

    public IReadOnlyList<ListenerStatus> GetListeners()
    {
        lock (_lock)
        {
            return [.. _running.Values.Concat(_draining).Select(e => e.Status()).OrderBy(s => s.Name, StringComparer.OrdinalIgnoreCase)];
        }
    }

    /// <summary>Runs before any hosted service starts, so listeners are bound (or startup fails) before Kestrel starts.</summary>
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var specs = EnsureValidated();
        try
        {
            await ApplyAsync(specs, throwOnBindFailure: true, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The host will not stop what failed to start: release what was bound.
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        if (_source.Listeners is { } section)
        {
            _reloadSubscription = ChangeToken.OnChange(section.GetReloadToken, () => Track(ReloadAsync()));
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops every listener, ends drains still running and waits for the reloads and drains in flight.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _reloadSubscription?.Dispose();
        await _stopping.CancelAsync().ConfigureAwait(false);
        List<Entry> running;
        lock (_lock)
        {
            running = [.. _running.Values];
            _running.Clear();
        }
        await Task.WhenAll(running.Where(r => r.Active is not null).Select(r => r.Active!.StopAsync(cancellationToken))).ConfigureAwait(false);
        await Task.WhenAll(_background.Keys).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _reloadSubscription?.Dispose();
        _stopping.Dispose();
    }

    private List<ListenerSpec> Load(List<string> errors)
    {
        var listeners = ListenerConfigReader.Read(_source.Listeners, errors);
        listeners.AddRange(_codeListeners.Listeners);
        var admin = AdminConfig.Read(_source.ReverseProxy?.GetSection("Admin") is { } section && section.Exists() ? section : null, _adminOptions, errors);
        if (admin?.AuthorizationPolicy is { } policy)
        {
            AdminAuthorization.Validate(policy, _services, errors);
        }
        // The section's own clusters first: YARP's snapshot may not have seen the edit that is being applied yet.
        var clusters = _source.ReadClusters().ToList();
        var known = clusters.Select(c => c.ClusterId).ToHashSet(StringComparer.OrdinalIgnoreCase);
        clusters.AddRange(_services.GetServices<IProxyConfigProvider>().SelectMany(p => p.GetConfig().Clusters ?? []).Where(c => known.Add(c.ClusterId)));
        var specs = ListenerConfigValidator.Validate(listeners, clusters, name => _codeBound.Contains(name) || _registry.Contains(name), errors, admin?.ToListener());
        if (errors.Count == 0)
        {
            _admin = admin;
        }
        return specs;
    }

    private async Task ReloadAsync()
    {
        try
        {
            await _applyLock.WaitAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        try
        {
            var errors = new List<string>();
            var specs = Load(errors);
            if (errors.Count > 0)
            {
                // Like YARP: an invalid reload is logged (every error at once) and the running configuration stays.
                Log.ConfigInvalid(_logger, string.Join(Environment.NewLine, errors));
                return;
            }
            _current = specs;
            if (specs.Count > 0)
            {
                Projection.IncludeSharedEndpoints();
            }
            await ApplyAsync(specs, throwOnBindFailure: false, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            Log.ConfigInvalid(_logger, ex.ToString());
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _applyLock.Release();
        }
    }

    /// <summary>Stops removed, changed and failed listeners (they drain in the background), then starts what is missing.</summary>
    private async Task ApplyAsync(IReadOnlyList<ListenerSpec> specs, bool throwOnBindFailure, CancellationToken cancellationToken)
    {
        if (_drainedAll)
        {
            specs = [.. specs.Where(static s => s.IsAdmin)];
        }
        var wanted = specs.ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);
        lock (_lock)
        {
            foreach (var (name, entry) in _running.ToList())
            {
                if (!wanted.TryGetValue(name, out var spec) || spec != entry.Spec || entry.Active is null)
                {
                    _running.Remove(name);
                    if (entry.Active is { } active)
                    {
                        Log.ListenerRemoved(_logger, name, entry.Spec.DrainTimeout);
                        entry.Draining = true;
                        _draining.Add(entry);
                        // Stops accepting before it returns: an added listener may bind the same port below.
                        Track(DrainAsync(entry, active.DrainAsync(entry.Spec.DrainTimeout, _stopping.Token)));
                    }
                }
            }
        }

        foreach (var spec in specs)
        {
            Entry entry;
            lock (_lock)
            {
                if (_running.ContainsKey(spec.Name))
                {
                    continue;
                }
                entry = new Entry(spec);
                _running[spec.Name] = entry;
            }
            try
            {
                entry.Active = await _handlers[spec.Kind].StartAsync(spec, cancellationToken).ConfigureAwait(false);
                Log.ListenerAdded(_logger, spec.Name, spec.Config.Address ?? "");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.BindFailed(_logger, spec.Name, spec.Config.Address ?? "", ex);
                entry.Error = ex;
                if (throwOnBindFailure)
                {
                    throw new InvalidOperationException($"Listener '{spec.Name}' could not bind {spec.Config.Address}: {ex.Message}", ex);
                }
            }
        }
    }

    private async Task DrainAsync(Entry entry, Task drain)
    {
        try
        {
            await drain.ConfigureAwait(false);
            Log.ListenerDrained(_logger, entry.Spec.Name);
        }
        finally
        {
            lock (_lock)
            {
                _draining.Remove(entry);
            }
        }
    }

    private void Track(Task task)
    {
        _background.TryAdd(task, 0);
        task.ContinueWith(static (t, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(t, out _), _background,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>One listener the manager runs (or failed to bind, or is draining).</summary>
    private sealed class Entry(ListenerSpec spec)
    {
        public ListenerSpec Spec { get; } = spec;

        public IActiveListener? Active { get; set; }

        public Exception? Error { get; set; }

        public bool Draining { get; set; }

        public ListenerStatus Status()
        {
            var active = Active;
            var state = Draining ? ListenerState.Draining
                : Error is not null ? ListenerState.Failed
                : active is { IsReady: true } ? ListenerState.Bound
                : ListenerState.Starting;
            return new ListenerStatus(Spec.Name, Spec.Config.Address ?? "", state, active?.EndPoints ?? [], Error);
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
