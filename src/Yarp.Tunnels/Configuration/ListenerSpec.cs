using System.Net;

namespace Yarp.Tunnels.Configuration;

/// <summary>A validated listener: its config plus the endpoint it binds.</summary>
internal sealed record ListenerSpec(ListenerConfig Config, ListenerKind Kind, IPEndPoint? SocketEndPoint, string? InternalName)
{
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(30);

    public string Name => Config.Name;

    public ListenerProtocols Protocols => Config.Protocols ?? ListenerProtocols.Http1;

    /// <summary>The prefix of an HTTP listener's <c>http.&lt;prefix&gt;.*</c> statistics.</summary>
    public string StatPrefix => Config.StatPrefix ?? Name;

    public TimeSpan DrainTimeout => Config.DrainTimeout ?? DefaultDrainTimeout;

    /// <summary>Whether this is the admin endpoint's listener (<c>ReverseProxy:Admin</c>): its requests never reach the app.</summary>
    public bool IsAdmin { get; init; }
}
