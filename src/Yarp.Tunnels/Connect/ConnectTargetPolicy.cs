using System.Collections.Frozen;
using System.Net;
using System.Net.Sockets;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// The validated target policy of a CONNECT route: which host:port targets an original-destination route may reach,
/// and which resolved addresses (checked on every address after DNS, before the connect).
/// </summary>
internal sealed class ConnectTargetPolicy
{
    public static readonly ConnectTargetPolicy Default = new(new ConnectPolicyConfig());

    private readonly FrozenSet<int> _ports;
    private readonly HostRule[] _hosts;

    /// <summary>Builds the policy; <paramref name="config"/> must have passed <see cref="ConnectConfigValidator"/>.</summary>
    public ConnectTargetPolicy(ConnectPolicyConfig config)
    {
        _ports = config.AllowedPorts.ToFrozenSet();
        _hosts = [.. config.AllowedHosts.Select(h => HostRule.TryParse(h, out var rule) ? rule : throw new ArgumentException($"Invalid host pattern '{h}'."))];
        AllowLoopback = config.AllowLoopback;
        AllowPrivate = config.AllowPrivate;
        AuthorizationPolicy = config.AuthorizationPolicy;
    }

    public bool AllowLoopback { get; }

    public bool AllowPrivate { get; }

    public string? AuthorizationPolicy { get; }

    /// <summary>
    /// Whether <paramref name="target"/> may be reached: a host pattern matches it on an allowed port (or its own port).
    /// <paramref name="exactEndpoint"/> is true when an <c>IP:PORT</c> entry named it, whose address is then not vetted.
    /// </summary>
    public bool AllowsTarget(ConnectTarget target, out bool exactEndpoint, out string reason)
    {
        var hostMatched = false;
        foreach (var rule in _hosts)
        {
            if (!rule.MatchesHost(target.Host))
            {
                continue;
            }
            hostMatched = true;
            if (rule.Port is { } port ? port == target.Port : _ports.Contains(target.Port))
            {
                exactEndpoint = rule.Port is not null && rule.Address is not null;
                reason = "";
                return true;
            }
        }
        exactEndpoint = false;
        reason = hostMatched ? $"port {target.Port} is not allowed" : $"host '{target.Host}' is not allowed";
        return false;
    }

    /// <summary>
    /// Whether a resolved address may be connected to: never unspecified, broadcast, multicast or reserved; loopback
    /// and private/shared/link-local only when allowed.
    /// </summary>
    public bool AllowsAddress(IPAddress address) => Classify(address) switch
    {
        AddressClass.Public => true,
        AddressClass.Loopback => AllowLoopback,
        AddressClass.Private => AllowPrivate,
        _ => false,
    };

    internal enum AddressClass
    {
        Public,
        Loopback,
        Private,
        Never,
    }

    internal static AddressClass Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] switch
            {
                0 => AddressClass.Never,                                   // "this network", 0.0.0.0
                127 => AddressClass.Loopback,
                10 => AddressClass.Private,
                100 when (b[1] & 0xC0) == 64 => AddressClass.Private,      // 100.64.0.0/10 shared (CGNAT)
                169 when b[1] == 254 => AddressClass.Private,              // link-local
                172 when (b[1] & 0xF0) == 16 => AddressClass.Private,
                192 when b[1] == 168 => AddressClass.Private,
                >= 224 => AddressClass.Never,                              // multicast, reserved, broadcast
                _ => AddressClass.Public,
            };
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Loopback))
            {
                return AddressClass.Loopback;
            }
            if (address.Equals(IPAddress.IPv6Any) || address.IsIPv6Multicast)
            {
                return AddressClass.Never;
            }
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            return (b[0] & 0xFE) == 0xFC || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal ? AddressClass.Private : AddressClass.Public;
        }
        return AddressClass.Never;
    }

    /// <summary>One <c>AllowedHosts</c> entry: <c>*</c>, <c>*.suffix</c>, a name or an IP literal, optionally with <c>:port</c>.</summary>
    internal sealed record HostRule(string Host, bool Wildcard, IPAddress? Address, int? Port)
    {
        public static bool TryParse(string? value, out HostRule rule)
        {
            rule = null!;
            if (string.IsNullOrWhiteSpace(value) || !ConnectTarget.TrySplit(value.Trim(), requirePort: false, out var host, out var port))
            {
                return false;
            }
            if (host == "*")
            {
                rule = new HostRule("", Wildcard: true, null, port);
                return true;
            }
            var wildcard = host.StartsWith("*.", StringComparison.Ordinal);
            var name = wildcard ? host[2..] : host;
            if (name.Contains('*', StringComparison.Ordinal))
            {
                return false;
            }
            var address = !wildcard && IPAddress.TryParse(name, out var literal) ? literal : null;
            if (address is null && Uri.CheckHostName(name) != UriHostNameType.Dns)
            {
                return false;
            }
            rule = new HostRule(name.ToLowerInvariant(), wildcard, address, port);
            return true;
        }

        public bool MatchesHost(string host)
        {
            if (Wildcard)
            {
                return Host.Length == 0 || (host.Length > Host.Length + 1 && host.EndsWith(Host, StringComparison.OrdinalIgnoreCase) && host[^(Host.Length + 1)] == '.');
            }
            return Address is not null
                ? IPAddress.TryParse(host, out var literal) && literal.Equals(Address)
                : string.Equals(host, Host, StringComparison.OrdinalIgnoreCase);
        }
    }
}
