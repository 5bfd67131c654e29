namespace Yarp.Tunnels.Configuration;

/// <summary>Listeners declared from code, in addition to those of <c>ReverseProxy:Listeners</c>.</summary>
public sealed class TunnelListenerOptions
{
    /// <summary>The listeners; each needs a unique <see cref="ListenerConfig.Name"/>.</summary>
    public IList<ListenerConfig> Listeners { get; } = new List<ListenerConfig>();
}
