using System.Diagnostics.CodeAnalysis;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Destinations;

/// <summary>Parses <c>envoy-internal://NAME[/path]</c> destination addresses.</summary>
internal static class InternalAddress
{
    private const string Prefix = InternalEndPoint.Scheme + "://";

    public static bool IsInternal(string? address) =>
        address is not null && address.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Extracts the listener name; false with a reason when the address is malformed.</summary>
    public static bool TryParse(string address, [NotNullWhen(true)] out string? name, [NotNullWhen(true)] out string? pathAndQuery, [NotNullWhen(false)] out string? error)
    {
        name = null;
        pathAndQuery = null;
        var rest = address.AsSpan(Prefix.Length);
        var end = rest.IndexOfAny('/', '?');
        var host = end < 0 ? rest : rest[..end];
        if (host.IsEmpty)
        {
            error = "it names no internal listener";
            return false;
        }
        if (host.Contains(':') || host.Contains('@'))
        {
            error = "an internal listener address takes no port or user info";
            return false;
        }
        if (!InternalEndPoint.IsValidName(host.ToString()))
        {
            error = $"'{host}' is not a valid internal listener name";
            return false;
        }
        name = host.ToString();
        pathAndQuery = end < 0 ? "/" : rest[end..].ToString();
        if (pathAndQuery[0] == '?')
        {
            pathAndQuery = "/" + pathAndQuery;
        }
        error = null;
        return true;
    }
}
