using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Registers the internal listener transport with Kestrel and binds internal listeners from code.</summary>
public static class InternalListenerKestrelExtensions
{
    /// <summary>
    /// Adds the internal listener transport beside Kestrel's socket transport, so <see cref="InternalEndPoint"/>s can be bound.
    /// </summary>
    /// <param name="builder">The web host builder.</param>
    /// <param name="registry">The registry whose names this host binds and connects to; <see cref="InternalListenerRegistry.Shared"/> when null.</param>
    public static IWebHostBuilder UseInternalListeners(this IWebHostBuilder builder, InternalListenerRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services => services.AddInternalListenerTransport(registry));
    }

    /// <summary>Binds the internal listener <paramref name="name"/>; Kestrel serves it exactly as a socket endpoint.</summary>
    public static void ListenInternal(this KestrelServerOptions options, string name, Action<ListenOptions>? configure = null) =>
        options.ListenInternal(name, InternalEndPoint.DefaultBufferSizeKb, configure);

    /// <summary>Binds the internal listener <paramref name="name"/> with <paramref name="bufferSizeKb"/> KiB per direction.</summary>
    public static void ListenInternal(this KestrelServerOptions options, string name, int bufferSizeKb, Action<ListenOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        (options.ApplicationServices?.GetService(typeof(CodeBoundInternalListeners)) as CodeBoundInternalListeners)?.Add(name);
        options.Listen(new InternalEndPoint(name, bufferSizeKb), configure ?? (_ => { }));
    }

    internal static IServiceCollection AddInternalListenerTransport(this IServiceCollection services, InternalListenerRegistry? registry)
    {
        if (registry is not null)
        {
            services.RemoveAll<InternalListenerRegistry>();
            services.AddSingleton(registry);
        }
        services.TryAddSingleton(InternalListenerRegistry.Shared);
        services.AddMetrics();
        services.TryAddSingleton<TunnelMetrics>();
        services.TryAddSingleton(static sp => new TunnelStatistics(sp.GetRequiredService<TunnelMetrics>()));
        services.TryAddSingleton<CodeBoundInternalListeners>();
        services.TryAddSingleton(TimeProvider.System);
        // Keep the socket transport whatever the registration order: Kestrel adds it with TryAdd.
        services.TryAddSingleton<IConnectionListenerFactory, SocketTransportFactory>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, InternalTransportFactory>());
        return services;
    }
}
