using System.Globalization;
using System.Net;

namespace Yarp.Tunnels.Connect;

/// <summary>The target of a CONNECT: its authority (<c>host:port</c>, RFC 9110 §9.3.6) split and checked.</summary>
/// <param name="Host">The host name or IP literal (IPv6 without brackets).</param>
/// <param name="Port">The port (1-65535).</param>
internal sealed record ConnectTarget(string Host, int Port)
{
    /// <summary>The authority as a <c>tcp://</c> address for the upstream connectors.</summary>
    public string Address => $"tcp://{Authority}";

    /// <summary><c>host:port</c>, IPv6 literals in brackets.</summary>
    public string Authority => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses an authority-form target: a DNS name or IP literal and a port, nothing else (no userinfo, path or scheme).</summary>
    public static bool TryParse(string? authority, out ConnectTarget target)
    {
        target = null!;
        if (string.IsNullOrEmpty(authority) || !TrySplit(authority, requirePort: true, out var host, out var port))
        {
            return false;
        }
        if (!IPAddress.TryParse(host, out _) && Uri.CheckHostName(host) != UriHostNameType.Dns)
        {
            return false;
        }
        target = new ConnectTarget(host, port!.Value);
        return true;
    }

    /// <summary>Splits <c>host[:port]</c> / <c>[v6][:port]</c>; the host is returned as written (brackets removed).</summary>
    internal static bool TrySplit(string value, bool requirePort, out string host, out int? port)
    {
        host = "";
        port = null;
        string portText;
        if (!requirePort && !value.StartsWith('[') && IPAddress.TryParse(value, out var bare) && bare.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            host = value;
            return true;
        }
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 2 || !IPAddress.TryParse(value[1..close], out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return false;
            }
            host = value[1..close];
            var rest = value[(close + 1)..];
            if (rest.Length == 0)
            {
                return !requirePort;
            }
            if (rest[0] != ':')
            {
                return false;
            }
            portText = rest[1..];
        }
        else
        {
            var colon = value.LastIndexOf(':');
            if (colon < 0)
            {
                host = value;
                return !requirePort && host.Length > 0;
            }
            host = value[..colon];
            portText = value[(colon + 1)..];
            if (host.Length == 0 || host.Contains(':', StringComparison.Ordinal))
            {
                return false;
            }
        }
        if (portText.Length is 0 or > 5 || !portText.All(char.IsAsciiDigit)
            || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed is < 1 or > 65535)
        {
            return false;
        }
        port = parsed;
        return true;
    }
}
