namespace Yarp.Tunnels.Admin;

/// <summary>
/// The admin endpoint from code (Envoy's <c>admin</c>), used when the configuration has no <c>ReverseProxy:Admin</c>
/// section; the section's keys win over these.
/// </summary>
public sealed class TunnelAdminOptions
{
    /// <summary>
    /// Where the admin listener binds: <c>IP:PORT</c> (or <c>tcp://IP:PORT</c>; port 0 picks a free port), or a bare port,
    /// which binds 127.0.0.1 only. Null (the default) runs no admin endpoint.
    /// </summary>
    public string? Address { get; set; }

    /// <summary>An authorization policy (<c>AddAuthorization</c>) every admin request must satisfy; none by default.</summary>
    public string? AuthorizationPolicy { get; set; }
}
