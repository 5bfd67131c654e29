using System.Net;

namespace Yarp.Tunnels.Configuration;

/// <summary>A snapshot of one listener's state.</summary>
/// <param name="Name">The listener id.</param>
/// <param name="Address">The configured address (<c>tcp://IP:PORT</c> or <c>envoy-internal://NAME</c>).</param>
/// <param name="State">Its state.</param>
/// <param name="BoundEndPoints">What it is bound to (port 0 resolved; an <c>InternalEndPoint</c> for internal listeners); empty unless bound or draining.</param>
/// <param name="Error">Why it failed, when <paramref name="State"/> is <see cref="ListenerState.Failed"/>.</param>
public sealed record ListenerStatus(string Name, string Address, ListenerState State, IReadOnlyList<EndPoint> BoundEndPoints, Exception? Error);
