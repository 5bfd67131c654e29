using Microsoft.Extensions.Primitives;

namespace FrontProxy;

/// <summary>What this process runs (its <see cref="Role"/>), started in dependency order: replicas, sidecars, front.</summary>
internal sealed class Topology : IAsyncDisposable
{
    private readonly WebApplication _main;
    private readonly EmbeddedServices? _embedded;
    private readonly IAsyncDisposable? _ownReplica;
    private readonly IDisposable? _watch;

    private Topology(WebApplication main, EmbeddedServices? embedded, IAsyncDisposable? ownReplica, IDisposable? watch)
    {
        _main = main;
        _embedded = embedded;
        _ownReplica = ownReplica;
        _watch = watch;
    }

    public static async Task<Topology> StartAsync(string[] args)
    {
        var topology = await StartRoleAsync(args);
        StartupLogGate.Started();
        return topology;
    }

    private static async Task<Topology> StartRoleAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Configuration.AddSampleSources(args);
        StartupLogGate.Apply(builder.Logging);
        var root = builder.Configuration;
        var options = SampleOptions.Read(root);
        switch (options.Role)
        {
            case Role.Service:
            {
                var service = ServiceApp.Build(root, options.Service, options.ReplicaName, options.Listen!);
                await service.StartAsync();
                StartupBanner.Log(service, $"Service {options.Service} replica {options.ReplicaName}", []);
                return new Topology(service, null, null, null);
            }
            case Role.Sidecar:
                return await StartSidecarAsync(root, options);
            default:
                return await StartFrontAsync(builder, options);
        }
    }

    public Task WaitForShutdownAsync() => _main.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        _watch?.Dispose();
        await _main.DisposeAsync();
        if (_embedded is not null)
        {
            await _embedded.DisposeAsync();
        }
        if (_ownReplica is not null)
        {
            await _ownReplica.DisposeAsync();
        }
    }

    private static async Task<Topology> StartFrontAsync(WebApplicationBuilder builder, SampleOptions options)
    {
        var destinations = new FrontDestinations();
        ((IConfigurationBuilder)builder.Configuration).Add(destinations);
        EmbeddedServices? embedded = null;
        IDisposable? watch = null;
        WebApplication? front = null;
        try
        {
            if (options.Role == Role.Embedded)
            {
                embedded = new EmbeddedServices(builder.Configuration, destinations);
                // The front binds 8080/8443 only once every sidecar and replica serves.
                await embedded.StartAsync(CancellationToken.None);
            }
            else
            {
                destinations.Set(FrontDestinations.FromSwitches(builder.Configuration));
                IConfiguration configuration = builder.Configuration;
                watch = ChangeToken.OnChange(configuration.GetReloadToken, () => destinations.Set(FrontDestinations.FromSwitches(configuration)));
            }
            front = FrontApp.Build(builder, options.Role);
            await front.StartAsync();
            StartupBanner.Log(front, "Front proxy", embedded?.Describe() ?? []);
            embedded?.Watch(front);
            return new Topology(front, embedded, null, watch);
        }
        catch
        {
            watch?.Dispose();
            if (front is not null)
            {
                await front.DisposeAsync();
            }
            if (embedded is not null)
            {
                await embedded.DisposeAsync();
            }
            throw;
        }
    }

    /// <summary>A sidecar on <c>--listen</c>; without <c>--upstream</c> its replica runs in this process behind it (one container).</summary>
    private static async Task<Topology> StartSidecarAsync(IConfiguration root, SampleOptions options)
    {
        var replica = options.ReplicaName;
        WebApplication? service = null;
        var upstream = options.Upstream;
        if (string.IsNullOrEmpty(upstream))
        {
            upstream = Addresses.InternalScheme + EmbeddedServices.ServiceListener(replica);
            service = ServiceApp.Build(root, options.Service, replica, upstream);
            await service.StartAsync();
        }
        try
        {
            var sidecar = SidecarApp.Build(root, replica, options.Listen!, upstream, options.Admin, protocols: "Auto", mainHost: true);
            await sidecar.StartAsync();
            StartupBanner.Log(sidecar, $"Sidecar of {replica}", service is null ? [] : [$"Replica {replica}: service {upstream} (HTTP/1.1)"]);
            return new Topology(sidecar, null, service, null);
        }
        catch
        {
            if (service is not null)
            {
                await service.DisposeAsync();
            }
            throw;
        }
    }
}
