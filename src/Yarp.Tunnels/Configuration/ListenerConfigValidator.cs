using System.Globalization;
using System.Net;
using Yarp.ReverseProxy.Configuration;
using Yarp.Tunnels.Admin;
using Yarp.Tunnels.Destinations;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Tunneling;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// Validates listeners and the envoy-internal references of clusters together, collecting every error without
/// short-circuiting, each naming the listener or cluster and the key.
/// </summary>
internal static class ListenerConfigValidator
{
    private const string TcpScheme = "tcp://";
    private const int MaxTunnelHeaders = 1000;

    // Headers the tunnel writes itself (or that would change its framing).
    private static readonly HashSet<string> TunnelManagedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "host", "connection", "content-length", "transfer-encoding", "upgrade", "te", "keep-alive", "proxy-connection",
    };

    // The admin endpoint's listener (AdminConfig.ToListener) is checked with the others: its address must not collide.
    public static List<ListenerSpec> Validate(IReadOnlyList<ListenerConfig> listeners, IReadOnlyList<ClusterConfig>? clusters,
        Func<string, bool> isBoundElsewhere, IList<string> errors, ListenerConfig? admin = null)
    {
        var specs = new List<ListenerSpec>();
        var internalNames = new Dictionary<string, string>(StringComparer.Ordinal);
        var socketEndPoints = new Dictionary<IPEndPoint, string>();
        var clusterIds = clusters?.Select(c => c.ClusterId).ToHashSet(StringComparer.OrdinalIgnoreCase);

        foreach (var listener in admin is null ? listeners : listeners.Append(admin))
        {
            var name = listener.Name;
            var ok = true;
            var isAdmin = ReferenceEquals(listener, admin);
            if (string.IsNullOrWhiteSpace(name))
            {
                errors.Add("A listener has no name.");
                ok = false;
            }
            else if (admin is not null && !isAdmin && string.Equals(name, AdminConfig.ListenerName, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"Listener '{name}': the name is taken by the admin endpoint (ReverseProxy:Admin); rename the listener.");
                ok = false;
            }

            if (listener.BufferSizeKb is { } size && size is < 1 or > InternalEndPoint.MaxBufferSizeKb)
            {
                errors.Add($"Listener '{name}': BufferSizeKb {size} is out of range (1-{InternalEndPoint.MaxBufferSizeKb}).");
                ok = false;
            }
            if (listener.DrainTimeout is { } drain && drain < TimeSpan.Zero)
            {
                errors.Add($"Listener '{name}': DrainTimeout must not be negative.");
                ok = false;
            }
            ok &= ValidateTcpProxy(name, listener.TcpProxy, clusterIds, errors);
            if (listener.StatPrefix is { } statPrefix)
            {
                if (listener.TcpProxy is not null)
                {
                    errors.Add($"Listener '{name}': StatPrefix applies to HTTP listeners; a TCP proxy listener takes TcpProxy:StatPrefix.");
                    ok = false;
                }
                else if (!IsStatName(statPrefix))
                {
                    errors.Add($"Listener '{name}': StatPrefix '{statPrefix}' is not a valid stat name (non-empty, no whitespace).");
                    ok = false;
                }
            }
            if (listener.Certificate is { } certificate && (listener.TcpProxy is not null || InternalAddress.IsInternal(listener.Address) || string.IsNullOrEmpty(certificate.Path)))
            {
                errors.Add($"Listener '{name}': Certificate applies only to HTTP socket listeners and needs Certificate:Path.");
                ok = false;
            }

            IPEndPoint? socket = null;
            string? internalName = null;
            var address = listener.Address;
            if (string.IsNullOrWhiteSpace(address))
            {
                errors.Add($"Listener '{name}': Address is required (tcp://IP:PORT or envoy-internal://NAME).");
                ok = false;
            }
            else if (InternalAddress.IsInternal(address))
            {
                if (!InternalAddress.TryParse(address, out internalName, out var path, out var error) || path != "/")
                {
                    errors.Add($"Listener '{name}': Address '{address}' is malformed: {error ?? "a listener address takes no path"}.");
                    ok = false;
                }
                else if (!internalNames.TryAdd(internalName, name))
                {
                    errors.Add($"Listener '{name}': internal listener name '{internalName}' is already used by listener '{internalNames[internalName]}'.");
                    ok = false;
                }
            }
            else if (address.StartsWith(TcpScheme, StringComparison.OrdinalIgnoreCase) && TryParseIPEndPoint(address[TcpScheme.Length..], out socket))
            {
                if (!socketEndPoints.TryAdd(socket, name) && socket.Port != 0)
                {
                    errors.Add(isAdmin
                        ? $"Admin: Address '{address}' is already used by listener '{socketEndPoints[socket]}'."
                        : $"Listener '{name}': Address '{address}' is already used by listener '{socketEndPoints[socket]}'.");
                    ok = false;
                }
            }
            else
            {
                errors.Add($"Listener '{name}': Address '{address}' is malformed: expected tcp://IP:PORT or envoy-internal://NAME.");
                ok = false;
            }

            if (ok)
            {
                var kind = (internalName is not null, listener.TcpProxy is not null) switch
                {
                    (true, true) => ListenerKind.InternalTcpProxy,
                    (true, false) => ListenerKind.InternalHttp,
                    (false, true) => ListenerKind.SocketTcpProxy,
                    _ => ListenerKind.SocketHttp,
                };
                specs.Add(new ListenerSpec(listener, kind, socket, internalName) { IsAdmin = isAdmin });
            }
        }

        foreach (var cluster in clusters ?? [])
        {
            ValidateClusterReferences(cluster, name => internalNames.ContainsKey(name) || isBoundElsewhere(name), errors);
        }
        return specs;
    }

    /// <summary>Checks that a cluster's envoy-internal destinations are well formed and name a known internal listener.</summary>
    public static void ValidateClusterReferences(ClusterConfig cluster, Func<string, bool> isKnown, IList<string> errors)
    {
        foreach (var (id, destination) in cluster.Destinations ?? new Dictionary<string, DestinationConfig>())
        {
            if (!InternalAddress.IsInternal(destination.Address))
            {
                continue;
            }
            if (!InternalAddress.TryParse(destination.Address, out var name, out _, out var error))
            {
                errors.Add($"Cluster '{cluster.ClusterId}' destination '{id}': Address '{destination.Address}' is not a valid envoy-internal address: {error}.");
            }
            else if (!isKnown(name))
            {
                errors.Add($"Cluster '{cluster.ClusterId}' destination '{id}': Address '{destination.Address}' names internal listener '{name}', which is neither declared in ReverseProxy:Listeners nor bound.");
            }
        }
    }

    private static bool ValidateTcpProxy(string name, TcpProxyConfig? tcp, HashSet<string>? clusterIds, IList<string> errors)
    {
        if (tcp is null)
        {
            return true;
        }
        var ok = true;
        if (string.IsNullOrWhiteSpace(tcp.ClusterId))
        {
            errors.Add($"Listener '{name}': TcpProxy:ClusterId is required.");
            ok = false;
        }
        else if (clusterIds is not null && !clusterIds.Contains(tcp.ClusterId))
        {
            errors.Add($"Listener '{name}': TcpProxy:ClusterId '{tcp.ClusterId}' names no cluster in ReverseProxy:Clusters.");
            ok = false;
        }
        if (tcp.StatPrefix is { } statPrefix && !IsStatName(statPrefix))
        {
            errors.Add($"Listener '{name}': TcpProxy:StatPrefix '{statPrefix}' is not a valid stat name (non-empty, no whitespace).");
            ok = false;
        }
        if (tcp.IdleTimeout is { } idle && idle < TimeSpan.Zero)
        {
            errors.Add($"Listener '{name}': TcpProxy:IdleTimeout must not be negative.");
            ok = false;
        }
        if (tcp.ConnectTimeout is { } connect && connect <= TimeSpan.Zero)
        {
            errors.Add($"Listener '{name}': TcpProxy:ConnectTimeout must be positive.");
            ok = false;
        }
        if (tcp.Tunneling is { } tunneling)
        {
            ok &= ValidateTunneling(name, tunneling, errors);
        }
        return ok;
    }

    private static bool ValidateTunneling(string name, TunnelingConfig tunneling, IList<string> errors)
    {
        var errorCount = errors.Count;
        var where = $"Listener '{name}': TcpProxy:Tunneling";
        if (string.IsNullOrWhiteSpace(tunneling.Hostname))
        {
            errors.Add($"{where}:Hostname is required (the CONNECT authority host:port, or the POST host).");
        }
        else if (TunnelFormatString.Parse(tunneling.Hostname, out var error) is null)
        {
            errors.Add($"{where}:Hostname '{tunneling.Hostname}': {error}.");
        }
        if (tunneling.PostPath is { } postPath)
        {
            if (tunneling.UsePost != true)
            {
                errors.Add($"{where}:PostPath applies only with UsePost: true.");
            }
            else if (!postPath.StartsWith('/') || postPath.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                errors.Add($"{where}:PostPath '{postPath}' must start with '/' and contain no whitespace.");
            }
        }
        if (tunneling.HeadersToAdd is { } headers)
        {
            if (headers.Count > MaxTunnelHeaders)
            {
                errors.Add($"{where}:HeadersToAdd has {headers.Count} headers; at most {MaxTunnelHeaders} are allowed.");
            }
            foreach (var (header, value) in headers)
            {
                if (header.Length == 0 || !header.All(IsTokenChar))
                {
                    errors.Add($"{where}:HeadersToAdd:{header} is not a valid header name.");
                }
                else if (TunnelManagedHeaders.Contains(header))
                {
                    errors.Add($"{where}:HeadersToAdd:{header} cannot be set: the tunnel manages it.");
                }
                if (TunnelFormatString.Parse(value, out var error) is null)
                {
                    errors.Add($"{where}:HeadersToAdd:{header} '{value}': {error}.");
                }
            }
        }
        if (tunneling.MaxTunnelsPerConnection is { } max)
        {
            if (max < 1)
            {
                errors.Add($"{where}:MaxTunnelsPerConnection must be at least 1.");
            }
            else if ((tunneling.Protocol ?? TunnelProtocol.Http1) != TunnelProtocol.Http2)
            {
                errors.Add($"{where}:MaxTunnelsPerConnection applies only with Protocol: Http2 (HTTP/1.1 opens one connection per tunnel).");
            }
        }
        if (tunneling.PayloadTls?.ServerName is { } serverName && (serverName.Length == 0 || serverName.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            errors.Add($"{where}:PayloadTls:ServerName '{serverName}' is not a host name.");
        }
        return errors.Count == errorCount;
    }

    // RFC 9110 token characters.
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);

    private static bool IsStatName(string value) => value.Length > 0 && !value.Any(char.IsWhiteSpace);

    private static bool TryParseIPEndPoint(string value, out IPEndPoint endPoint)
    {
        endPoint = null!;
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            return false;
        }
        if (!IPAddress.TryParse(value.AsSpan(0, colon).Trim("[]"), out var ip))
        {
            return false;
        }
        endPoint = new IPEndPoint(ip, port);
        return true;
    }
}
