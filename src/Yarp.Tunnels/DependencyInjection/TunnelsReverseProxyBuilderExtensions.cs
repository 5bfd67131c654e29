using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.Tunnels.Admin;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Connect;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Tunneling;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Configuration.ClusterValidators;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.Tunnels.Destinations;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.ResponseHeaders;
using Yarp.Tunnels.Tunneling.Http2;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Yarp.Tunnels to a YARP reverse proxy.</summary>
public static class TunnelsReverseProxyBuilderExtensions
{
    /// <summary>
    /// Lets clusters forward to <c>envoy-internal://NAME</c> destinations (requests, health probes and WebSockets),
    /// answering 503 with a <c>Proxy-Status</c> header when the listener is not bound.
    /// </summary>
    /// <param name="builder">The reverse proxy builder.</param>
    /// <param name="registry">The registry to connect through; <see cref="InternalListenerRegistry.Shared"/> when null.</param>
    public static IReverseProxyBuilder AddInternalListenerDestinations(this IReverseProxyBuilder builder, InternalListenerRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(s => s.ServiceType == typeof(InternalListenerConnector)))
        {
            return builder;
        }

        services.AddInternalListenerTransport(registry);
        services.TryAddSingleton<InternalListenerConnector>();
        services.RemoveAll<IForwarderHttpClientFactory>();
        services.AddSingleton<IForwarderHttpClientFactory, InternalListenerHttpClientFactory>();
        builder.AddTransforms<InternalRequestTargetTransform>();
        builder.AddTransforms<UpstreamStatsTransform>();
        services.TryAddSingleton<ClusterMembershipStats>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IClusterChangeListener, ClusterMembershipStats>(static sp => sp.GetRequiredService<ClusterMembershipStats>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IClusterValidator, InternalDestinationValidator>());
        services.AddTransient<IStartupFilter, InternalListenerErrorStartupFilter>();
        Decorate<IProbingRequestFactory>(services, static (inner, sp) => new InternalProbingRequestFactory(inner, sp));
        Decorate<IClusterDestinationsUpdater>(services, static (inner, sp) => new HealthTrackingDestinationsUpdater(inner, sp.GetRequiredService<ClusterMembershipStats>()));
        return builder;
    }

    /// <summary>
    /// Adds every Yarp.Tunnels feature to the proxy: envoy-internal destinations and the listeners of
    /// <c>Listeners</c> under <paramref name="reverseProxySection"/> (the section passed to <c>LoadFromConfig</c>),
    /// plus any declared in <see cref="TunnelListenerOptions"/>. Listener changes in the configuration apply live, and
    /// <see cref="IListenerStateProvider"/> reports each listener's state. Calling it again with the same section does
    /// nothing more.
    /// </summary>
    /// <param name="builder">The reverse proxy builder.</param>
    /// <param name="reverseProxySection">The <c>ReverseProxy</c> configuration section, or null for code-only listeners.</param>
    /// <param name="registry">The registry to bind and connect through; <see cref="InternalListenerRegistry.Shared"/> when null.</param>
    /// <exception cref="InvalidOperationException">Called before with another section.</exception>
    public static IReverseProxyBuilder AddTunnels(this IReverseProxyBuilder builder, IConfiguration? reverseProxySection = null, InternalListenerRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.LastOrDefault(s => s.ServiceType == typeof(TunnelsConfigurationSource))?.ImplementationInstance is TunnelsConfigurationSource existing)
        {
            if (!SameSection(existing.ReverseProxy, reverseProxySection))
            {
                throw new InvalidOperationException($"AddTunnels was already called with the section '{PathOf(existing.ReverseProxy)}'; one host has one listener configuration.");
            }
            return builder;
        }

        builder.AddInternalListenerDestinations(registry);
        services.AddOptions<TunnelListenerOptions>();
        services.AddSingleton(new TunnelsConfigurationSource(reverseProxySection));
        services.TryAddSingleton<ClusterDestinationPicker>();
        services.TryAddSingleton<TcpProxyServices>();
        services.TryAddKeyedSingleton<ITunnelOpener, Http1TunnelOpener>(TunnelProtocol.Http1);
        // Tunneling Protocol Http2: tunnels multiplexed on the host's pool of HTTP/2 connections.
        services.TryAddSingleton(static sp => new Http2ConnectionPool(sp.GetRequiredService<TcpProxyServices>().Connectors, new Http2ClientOptions(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<Http2ConnectionPool>(), sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.TryAddKeyedSingleton<ITunnelOpener, Http2TunnelOpener>(TunnelProtocol.Http2);
        services.TryAddSingleton<HiddenHttpEndpoints>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, HiddenEndpointTransport>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IListenerHandler, SocketHttpListenerHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IListenerHandler, InternalHttpListenerHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IListenerHandler, SocketTcpProxyListenerHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IListenerHandler, InternalTcpProxyListenerHandler>());
        services.TryAddSingleton<ListenerManager>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IClusterValidator, OriginalDestinationValidator>());
        services.AddUpgradePolicy();
        services.AddConnectOpeners();
        services.TryAddSingleton<IListenerStateProvider>(sp => sp.GetRequiredService<ListenerManager>());
        services.AddHostedService(sp => sp.GetRequiredService<ListenerManager>());
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>, TunnelsKestrelSetup>();
        AddAdmin(services);
        builder.AddResponseHeaders();
        return builder;
    }

    /// <summary>The admin endpoint (<c>ReverseProxy:Admin</c> or <see cref="TunnelAdminOptions"/>) and the HTTP request stats in front of the app.</summary>
    private static void AddAdmin(IServiceCollection services)
    {
        services.AddOptions<TunnelAdminOptions>();
        services.TryAddSingleton<AdminServerState>();
        services.TryAddSingleton<ServerAdminHandler>();
        services.TryAddSingleton<StatsAdminHandler>();
        services.TryAddSingleton<ClustersAdminHandler>();
        services.TryAddSingleton<ListenersAdminHandler>();
        services.TryAddSingleton<ConfigDumpAdminHandler>();
        services.TryAddSingleton<AdminEndpoints>();
        services.AddTransient<IStartupFilter, AdminStartupFilter>();
    }

    private static void AddResponseHeaders(this IReverseProxyBuilder builder)
    {
        builder.Services.TryAddSingleton<ResponseHeadersManager>();
        builder.Services.AddSingleton<IConfigureOptions<KestrelServerOptions>, KestrelServerHeaderSetup>();
        builder.Services.AddTransient<IStartupFilter, ServerHeaderStartupFilter>();
        builder.AddTransforms<UpstreamServiceTimeTransform>();
    }

    private static bool SameSection(IConfiguration? a, IConfiguration? b) =>
        ReferenceEquals(a, b) || (a is IConfigurationSection x && b is IConfigurationSection y && x.Path == y.Path);

    private static string PathOf(IConfiguration? section) => section is IConfigurationSection s ? s.Path : section is null ? "(none)" : "(root)";

    /// <summary>Replaces the last registration of <typeparamref name="TService"/> (from <c>AddReverseProxy</c>) by <paramref name="decorate"/> around it.</summary>
    private static void Decorate<TService>(IServiceCollection services, Func<TService, IServiceProvider, TService> decorate)
        where TService : class
    {
        var inner = services.LastOrDefault(s => s.ServiceType == typeof(TService));
        if (inner is null)
        {
            return;
        }
        services.Remove(inner);
        services.AddSingleton(sp => decorate(
            inner.ImplementationInstance as TService
                ?? inner.ImplementationFactory?.Invoke(sp) as TService
                ?? (TService)ActivatorUtilities.CreateInstance(sp, inner.ImplementationType!),
            sp));
    }

    private sealed class InternalListenerErrorStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseMiddleware<InternalListenerErrorMiddleware>();
            next(app);
        };
    }
}
