using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.Admin;

/// <summary>The admin endpoint as configured: <c>ReverseProxy:Admin</c> over <see cref="TunnelAdminOptions"/>.</summary>
internal sealed record AdminConfig(string Address, string? AuthorizationPolicy)
{
    /// <summary>The admin listener's name, in <c>/listeners</c> and <see cref="IListenerStateProvider"/>; no other listener may take it.</summary>
    public const string ListenerName = "admin";

    /// <summary>The prefix of the admin requests' own <c>http.admin.*</c> statistics, as in Envoy.</summary>
    public const string StatPrefix = "admin";

    /// <summary>The drain time of an admin listener replaced by a reload: admin requests are short.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Reads the admin endpoint, or null when none is configured; a malformed address is an error naming the key.</summary>
    public static AdminConfig? Read(IConfiguration? section, TunnelAdminOptions options, IList<string> errors)
    {
        var address = section?["Address"] ?? options.Address;
        var policy = section?["AuthorizationPolicy"] ?? options.AuthorizationPolicy;
        if (string.IsNullOrWhiteSpace(address))
        {
            if (policy is not null)
            {
                errors.Add("Admin: AuthorizationPolicy is set but Address is not; set Address (e.g. 127.0.0.1:8001) to run the admin endpoint.");
            }
            return null;
        }
        if (!TryNormalize(address.Trim(), out var normalized))
        {
            errors.Add($"Admin: Address '{address}' is malformed: expected IP:PORT (e.g. 127.0.0.1:8001, 0.0.0.0:8001 for every interface) or a port (127.0.0.1 only).");
            return null;
        }
        if (policy is { Length: 0 })
        {
            policy = null;
        }
        return new AdminConfig(normalized, policy);
    }

    /// <summary>The admin listener this endpoint runs on: HTTP/1.1, statistics under <c>http.admin.*</c>.</summary>
    public ListenerConfig ToListener() => new()
    {
        Name = ListenerName,
        Address = Address,
        Protocols = ListenerProtocols.Http1,
        StatPrefix = StatPrefix,
        DrainTimeout = DrainTimeout,
    };

    private static bool TryNormalize(string address, out string normalized)
    {
        normalized = "";
        if (int.TryParse(address, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            if (port > IPEndPoint.MaxPort)
            {
                return false;
            }
            normalized = $"tcp://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
            return true;
        }
        var endPoint = address.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase) ? address["tcp://".Length..] : address;
        // A port is required: IPv4 as IP:PORT, IPv6 as [IP]:PORT.
        var hasPort = endPoint.StartsWith('[') ? endPoint.Contains("]:", StringComparison.Ordinal) : endPoint.Count(static c => c == ':') == 1;
        if (!hasPort || !IPEndPoint.TryParse(endPoint, out var parsed))
        {
            return false;
        }
        normalized = "tcp://" + parsed;
        return true;
    }
}
