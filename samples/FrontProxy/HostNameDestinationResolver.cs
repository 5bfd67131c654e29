using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace FrontProxy;

/// <summary>
/// The front role's destination resolver: YARP's DNS resolver for destinations named by host (compose services,
/// Kubernetes headless services), every other destination (an IP address, an internal listener) as configured. DNS
/// has nothing to resolve in an IP address, and YARP's resolver would still turn it into a destination with an explicit
/// <c>Host</c>, a header set and parsed on every forwarded request.
/// </summary>
internal sealed class HostNameDestinationResolver(IDestinationResolver dns) : IDestinationResolver
{
    /// <summary>Adds YARP's DNS resolver (<paramref name="configure"/>) behind this one.</summary>
    public static void Add(IReverseProxyBuilder proxy, Action<DnsDestinationResolverOptions> configure)
    {
        proxy.AddDnsDestinationResolver(configure);
        var services = proxy.Services;
        var inner = services.Last(s => s.ServiceType == typeof(IDestinationResolver));
        services.RemoveAll<IDestinationResolver>();
        services.AddSingleton<IDestinationResolver>(sp => new HostNameDestinationResolver((IDestinationResolver)(
            inner.ImplementationInstance ?? inner.ImplementationFactory?.Invoke(sp) ?? ActivatorUtilities.CreateInstance(sp, inner.ImplementationType!))));
    }

    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(IReadOnlyDictionary<string, DestinationConfig> destinations,
        CancellationToken cancellationToken)
    {
        var named = destinations.Where(d => NamesHost(d.Value.Address)).ToDictionary();
        if (named.Count == 0)
        {
            return new ResolvedDestinationCollection(destinations, null);
        }
        var resolved = await dns.ResolveDestinationsAsync(named, cancellationToken).ConfigureAwait(false);
        var all = destinations.Where(d => !named.ContainsKey(d.Key)).ToDictionary();
        foreach (var (id, config) in resolved.Destinations)
        {
            all[id] = config;
        }
        return new ResolvedDestinationCollection(all, resolved.ChangeToken);
    }

    private static bool NamesHost(string address) =>
        Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.HostNameType == UriHostNameType.Dns
        && !address.StartsWith(Addresses.InternalScheme, StringComparison.OrdinalIgnoreCase);
}
