using Microsoft.Extensions.Configuration;

namespace Yarp.Tunnels.Configuration;

/// <summary>Where this host's Yarp.Tunnels configuration lives: the <c>Listeners</c> child of the reverse proxy section.</summary>
internal sealed class TunnelsConfigurationSource(IConfiguration? reverseProxySection)
{
    public IConfiguration? Listeners { get; } = reverseProxySection?.GetSection("Listeners");
}
