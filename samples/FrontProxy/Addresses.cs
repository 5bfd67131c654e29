using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace FrontProxy;

/// <summary>The address forms the switches take: <c>IP:PORT</c>, <c>envoy-internal://NAME</c>, <c>http://HOST:PORT</c>.</summary>
internal static class Addresses
{
    public const string InternalScheme = "envoy-internal://";

    public static bool TryInternal(string address, [NotNullWhen(true)] out string? name)
    {
        name = address.StartsWith(InternalScheme, StringComparison.OrdinalIgnoreCase) ? address[InternalScheme.Length..] : null;
        return name is not null;
    }

    public static IPEndPoint ParseEndPoint(string address, string option) =>
        IPEndPoint.TryParse(address, out var endPoint)
            ? endPoint
            : throw new StartupException($"{option} '{address}' is not IP:PORT (e.g. 127.0.0.1:9001 or 0.0.0.0:8000)");

    /// <summary>A <c>ReverseProxy:Listeners</c> address for <c>--listen</c>.</summary>
    public static string ListenerAddress(string listen) =>
        TryInternal(listen, out _) ? listen : "tcp://" + ParseEndPoint(listen, "--listen");

    /// <summary>A YARP destination address for <c>--upstream</c>, <c>--service1</c>, … (<c>IP:PORT</c> means http).</summary>
    public static string Destination(string address, string option) =>
        TryInternal(address, out _) || address.Contains("://", StringComparison.Ordinal) ? address
        : IPEndPoint.TryParse(address, out _) || address.Contains(':') ? "http://" + address
        : throw new StartupException($"{option} '{address}' is not an address (http://HOST:PORT, IP:PORT or envoy-internal://NAME)");
}
