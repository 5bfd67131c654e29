using Microsoft.Extensions.Configuration;

namespace Yarp.Tunnels.Configuration;

/// <summary>Where this host's Yarp.Tunnels configuration lives: the reverse proxy section and its <c>Listeners</c> child.</summary>
internal sealed class TunnelsConfigurationSource(IConfiguration? reverseProxySection)
{
    public IConfiguration? ReverseProxy { get; } = reverseProxySection;

    public IConfiguration? Listeners { get; } = reverseProxySection?.GetSection("Listeners");
}
