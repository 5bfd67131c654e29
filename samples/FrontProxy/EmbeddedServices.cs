using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy;
using Yarp.Tunnels.Configuration;

namespace FrontProxy;

/// <summary>
/// The service replicas of the embedded topology, each behind its own sidecar gateway, all in this process over
/// internal listeners (front → <c>envoy-internal://service1-1</c> → <c>envoy-internal://service1-1-app</c>). Follows
/// the replica counts live: a new replica serves before the front routes to it; a removed one leaves the front's
/// cluster before it stops, as <c>docker compose scale</c> does.
/// </summary>
internal sealed partial class EmbeddedServices(IConfiguration root, FrontDestinations destinations) : IAsyncDisposable
{
    private static readonly TimeSpan UnroutedTimeout = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, Replica> _replicas = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IDisposable? _watch;
    private IProxyStateLookup? _front;
    private ILogger? _logger;

    public static string SidecarListener(string replica) => replica;

    public static string ServiceListener(string replica) => replica + "-app";

    /// <summary>One line per replica, for the banner.</summary>
    public IEnumerable<string> Describe() => _replicas.Values.OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => r.Describe());

    /// <summary>Whether the hops are loopback TCP (<c>FrontProxy:EmbeddedTransport</c> <c>Loopback</c>, for comparison) instead of internal listeners.</summary>
    private bool Loopback() => root[$"{SampleOptions.Section}:EmbeddedTransport"] switch
    {
        null or "" or "Internal" => false,
        "Loopback" => true,
        var other => throw new StartupException($"FrontProxy:EmbeddedTransport '{other}' is not Internal or Loopback"),
    };

    /// <summary>
    /// A sidecar's admin address: <c>FrontProxy:SidecarAdminBasePort</c> + 100 × (service − 1) + replica index
    /// (service1-1 on 8101, service1-2 on 8102, service2-1 on 8201); base 0 gives each an ephemeral port.
    /// </summary>
    private string SidecarAdmin(int service, string replica)
    {
        var text = root[$"{SampleOptions.Section}:SidecarAdminBasePort"] ?? "0";
        if (!int.TryParse(text, out var basePort) || basePort is < 0 or > 65535 - (100 * ServiceReplicas.Max))
        {
            throw new StartupException($"FrontProxy:SidecarAdminBasePort '{text}' is not a port (0 for ephemeral ones)");
        }
        var index = int.Parse(replica[(replica.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return $"127.0.0.1:{(basePort == 0 ? 0 : basePort + (100 * (service - 1)) + index)}";
    }

    /// <summary>Starts the configured replicas and their sidecars; throws (naming the problem) when one cannot start.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => ReconcileAsync(ServiceReplicas.Read(root), cancellationToken);

    /// <summary>Once the front serves: follows replica count changes of the configuration.</summary>
    public void Watch(WebApplication front)
    {
        _front = front.Services.GetRequiredService<IProxyStateLookup>();
        _logger = front.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FrontProxy");
        _watch = ChangeToken.OnChange(root.GetReloadToken, () => _ = ReloadAsync());
    }

    public async ValueTask DisposeAsync()
    {
        _watch?.Dispose();
        await _gate.WaitAsync();
        foreach (var replica in _replicas.Values)
        {
            await replica.DisposeAsync();
        }
        _replicas.Clear();
    }

    private async Task ReloadAsync()
    {
        try
        {
            await ReconcileAsync(ServiceReplicas.Read(root), CancellationToken.None);
        }
        catch (Exception ex)
        {
            Log.ScaleFailed(_logger!, StartupFailure.Describe(ex)[StartupFailure.Prefix.Length..]);
        }
    }

    private async Task ReconcileAsync(IReadOnlyList<(int Service, string Cluster, string Replica)> wanted, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var added = new List<string>();
            foreach (var (service, cluster, name) in wanted.Where(w => !_replicas.ContainsKey(w.Replica)))
            {
                _replicas[name] = await Replica.StartAsync(root, service, cluster, name, SidecarAdmin(service, name), Loopback(), cancellationToken);
                added.Add(name);
            }
            var wantedNames = wanted.Select(w => w.Replica).ToHashSet(StringComparer.Ordinal);
            destinations.Set(_replicas.Values.Where(r => wantedNames.Contains(r.Name))
                .Select(r => (r.Cluster, r.Name, r.SidecarAddress)));
            foreach (var name in added.Where(_ => _logger is not null))
            {
                Log.ReplicaAdded(_logger!, name, _replicas[name].Describe());
            }

            foreach (var replica in _replicas.Values.Where(r => !wantedNames.Contains(r.Name)).ToList())
            {
                await WaitUntilUnroutedAsync(replica);
                _replicas.Remove(replica.Name);
                await replica.DisposeAsync();
                Log.ReplicaRemoved(_logger!, replica.Name);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Waits (bounded) until the front's cluster no longer lists the replica, so no new request picks it.</summary>
    private async Task WaitUntilUnroutedAsync(Replica replica)
    {
        var deadline = DateTime.UtcNow + UnroutedTimeout;
        while (_front is not null && _front.TryGetCluster(replica.Cluster, out var cluster) && cluster.Destinations.ContainsKey(replica.Name)
            && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }

    private sealed record Replica(string Cluster, string Name, WebApplication Service, string ServiceAddress, WebApplication Sidecar, string SidecarAddress)
        : IAsyncDisposable
    {
        /// <param name="loopback">Hops over loopback TCP instead of internal listeners (FrontProxy:EmbeddedTransport Loopback, for comparison).</param>
        public static async Task<Replica> StartAsync(IConfiguration root, int service, string cluster, string name, string admin, bool loopback,
            CancellationToken cancellationToken)
        {
            var app = ServiceApp.Build(root, service, name, loopback ? "127.0.0.1:0" : Addresses.InternalScheme + ServiceListener(name));
            WebApplication? sidecar = null;
            try
            {
                await app.StartAsync(cancellationToken);
                var serviceAddress = loopback
                    ? app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()
                    : Addresses.InternalScheme + ServiceListener(name);
                sidecar = SidecarApp.Build(root, name, loopback ? "127.0.0.1:0" : Addresses.InternalScheme + SidecarListener(name), serviceAddress, admin,
                    protocols: "Http2", mainHost: false);
                await sidecar.StartAsync(cancellationToken);
                var sidecarAddress = loopback
                    ? $"http://{Listener(sidecar, SidecarApp.Listener)}"
                    : Addresses.InternalScheme + SidecarListener(name);
                return new Replica(cluster, name, app, serviceAddress, sidecar, sidecarAddress);
            }
            catch
            {
                if (sidecar is not null)
                {
                    await sidecar.DisposeAsync();
                }
                await app.DisposeAsync();
                throw;
            }
        }

        public string Describe() =>
            $"Replica {Name}: sidecar {SidecarAddress} (h2c, admin http://{Listener(Sidecar, "admin")}) -> service {ServiceAddress} (HTTP/1.1)";

        private static System.Net.EndPoint? Listener(WebApplication app, string name) =>
            app.Services.GetRequiredService<IListenerStateProvider>().GetListeners().FirstOrDefault(l => l.Name == name)?.BoundEndPoints.FirstOrDefault();

        public async ValueTask DisposeAsync()
        {
            // The sidecar first: it drains its requests to the replica before the replica goes.
            await Sidecar.StopAsync();
            await Sidecar.DisposeAsync();
            await Service.StopAsync();
            await Service.DisposeAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Information, "Replica {Name} added: serving, then added to the front's cluster. {Description}")]
        public static partial void ReplicaAdded(ILogger logger, string name, string description);

        [LoggerMessage(11, LogLevel.Information, "Replica {Name} removed: out of the front's cluster, then stopped.")]
        public static partial void ReplicaRemoved(ILogger logger, string name);

        [LoggerMessage(12, LogLevel.Error, "The replica counts were not applied: {Problem}")]
        public static partial void ScaleFailed(ILogger logger, string problem);
    }
}
