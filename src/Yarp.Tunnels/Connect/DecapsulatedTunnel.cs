namespace Yarp.Tunnels.Connect;

/// <summary>
/// Set on the connection that carries a decapsulated CONNECT tunnel into the gateway's own HTTP stack, so every inner
/// request sees it in <c>HttpContext.Features</c>: which CONNECT route decapsulated it and the tunnel's target.
/// <see cref="DecapsulatedRouteMatcherPolicy"/> matches inner requests only to routes that accept this route's tunnels.
/// </summary>
/// <param name="RouteId">The CONNECT route whose <c>Decapsulate: true</c> opened the tunnel.</param>
/// <param name="Authority">The CONNECT target (<c>host:port</c>) the client asked for.</param>
internal sealed record DecapsulatedTunnel(string RouteId, string Authority);
