using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Configuration.ClusterValidators;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.Tunnels.Destinations;
using Yarp.Tunnels.InternalListeners;

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
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IClusterValidator, InternalDestinationValidator>());
        services.AddTransient<IStartupFilter, InternalListenerErrorStartupFilter>();
        DecorateProbingRequestFactory(services);
        return builder;
    }

    private static void DecorateProbingRequestFactory(IServiceCollection services)
    {
        var inner = services.LastOrDefault(s => s.ServiceType == typeof(IProbingRequestFactory));
        if (inner is null)
        {
            return;
        }
        services.Remove(inner);
        services.AddSingleton<IProbingRequestFactory>(sp => new InternalProbingRequestFactory(
            inner.ImplementationInstance as IProbingRequestFactory
                ?? inner.ImplementationFactory?.Invoke(sp) as IProbingRequestFactory
                ?? (IProbingRequestFactory)ActivatorUtilities.CreateInstance(sp, inner.ImplementationType!),
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
