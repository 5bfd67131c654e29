namespace Yarp.Tunnels.Connect;

/// <summary>
/// The target policy of a CONNECT route (<c>Routes:&lt;id&gt;:Connect:Policy</c>), secure by default. The port and host
/// rules apply to targets of an original-destination cluster (the CONNECT authority is the target); a configured
/// destination is trusted. <see cref="AuthorizationPolicy"/> applies to every CONNECT on the route.
/// </summary>
public sealed record ConnectPolicyConfig
{
    /// <summary>Ports a target may have; default 443 only.</summary>
    public IReadOnlyList<int> AllowedPorts { get; init; } = [443];

    /// <summary>
    /// Host patterns a target must match (case-insensitive): <c>name</c>, <c>*.suffix</c> or <c>*</c>, each optionally
    /// with <c>:port</c>, which allows that port for the pattern whatever <see cref="AllowedPorts"/> says. An IP literal
    /// with a port (<c>127.0.0.1:10003</c>) allows exactly that endpoint, even a loopback or private one. Default: <c>*</c>.
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = ["*"];

    /// <summary>Allow targets that resolve to loopback addresses (127.0.0.0/8, ::1); default false.</summary>
    public bool AllowLoopback { get; init; }

    /// <summary>Allow targets that resolve to private, shared or link-local addresses (RFC 1918, 100.64/10, 169.254/16, fc00::/7, fe80::/10); default false.</summary>
    public bool AllowPrivate { get; init; }

    /// <summary>
    /// An ASP.NET Core authorization policy a CONNECT must satisfy. Its authentication schemes authenticate the request
    /// (<c>ProxyBasic</c> reads <c>Proxy-Authorization: Basic</c>); missing or wrong credentials get 407 with
    /// <c>Proxy-Authenticate</c>, an authenticated client the policy refuses 403. Null: no authorization.
    /// </summary>
    public string? AuthorizationPolicy { get; init; }
}
