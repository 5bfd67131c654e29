using System.Globalization;
using System.Net;
using System.Text;

namespace Yarp.Tunnels.Tunneling;

/// <summary>
/// A <c>Tunneling:Hostname</c> or <c>HeadersToAdd</c> value: literal text with Envoy command operators
/// (<c>%DOWNSTREAM_LOCAL_PORT%</c>, <c>%DESTINATION_METADATA(key)%</c>, …), parsed once, evaluated per connection.
/// A variable without a value (no SNI, a missing metadata key) gives the empty string.
/// </summary>
internal sealed class TunnelFormatString
{
    /// <summary>The variables, as written between the <c>%</c> signs (the metadata ones take <c>(key)</c>).</summary>
    public static readonly IReadOnlyList<string> Variables =
    [
        "DOWNSTREAM_LOCAL_ADDRESS", "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_LOCAL_PORT",
        "DOWNSTREAM_REMOTE_ADDRESS", "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_REMOTE_PORT",
        "REQUESTED_SERVER_NAME", "DESTINATION_METADATA(key)", "CLUSTER_METADATA(key)",
    ];

    private readonly Func<TunnelFormatContext, string?>[] _parts;

    private TunnelFormatString(Func<TunnelFormatContext, string?>[] parts, bool usesServerName)
    {
        _parts = parts;
        UsesRequestedServerName = usesServerName;
    }

    /// <summary>Whether evaluating needs the downstream's TLS SNI (so the connector peeks the ClientHello only then).</summary>
    public bool UsesRequestedServerName { get; }

    /// <summary>Parses <paramref name="format"/>, or returns null with an error naming the offending variable.</summary>
    public static TunnelFormatString? Parse(string format, out string? error)
    {
        error = null;
        var parts = new List<Func<TunnelFormatContext, string?>>();
        var usesServerName = false;
        var literal = new StringBuilder();
        var i = 0;
        while (i < format.Length)
        {
            var c = format[i];
            if (c != '%')
            {
                literal.Append(c);
                i++;
                continue;
            }
            if (i + 1 < format.Length && format[i + 1] == '%')
            {
                literal.Append('%');
                i += 2;
                continue;
            }
            var end = format.IndexOf('%', i + 1);
            if (end < 0)
            {
                error = $"'%' at position {i} opens a variable that is not closed (write '%%' for a literal '%')";
                return null;
            }
            var name = format[(i + 1)..end];
            var part = Variable(name);
            if (part is null)
            {
                error = $"unknown variable '%{name}%' (known: {string.Join(", ", Variables.Select(v => "%" + v + "%"))})";
                return null;
            }
            if (literal.Length > 0)
            {
                var text = literal.ToString();
                parts.Add(_ => text);
                literal.Clear();
            }
            parts.Add(part);
            usesServerName |= name == "REQUESTED_SERVER_NAME";
            i = end + 1;
        }
        if (literal.Length > 0 || parts.Count == 0)
        {
            var text = literal.ToString();
            parts.Add(_ => text);
        }
        return new TunnelFormatString([.. parts], usesServerName);
    }

    /// <summary>The value for one connection. Control characters (CR, LF, NUL, …) from variables are dropped, so a value cannot split a header.</summary>
    public string Evaluate(TunnelFormatContext context)
    {
        if (_parts.Length == 1)
        {
            return Clean(_parts[0](context));
        }
        var result = new StringBuilder();
        foreach (var part in _parts)
        {
            result.Append(Clean(part(context)));
        }
        return result.ToString();
    }

    private static string Clean(string? value) =>
        string.IsNullOrEmpty(value) ? "" : value.Any(char.IsControl) ? new string(value.Where(c => !char.IsControl(c)).ToArray()) : value;

    private static Func<TunnelFormatContext, string?>? Variable(string name)
    {
        switch (name)
        {
            case "DOWNSTREAM_LOCAL_ADDRESS":
                return static c => Address(c.LocalEndPoint);
            case "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT":
                return static c => WithoutPort(c.LocalEndPoint);
            case "DOWNSTREAM_LOCAL_PORT":
                return static c => Port(c.LocalEndPoint);
            case "DOWNSTREAM_REMOTE_ADDRESS":
                return static c => Address(c.RemoteEndPoint);
            case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT":
                return static c => WithoutPort(c.RemoteEndPoint);
            case "DOWNSTREAM_REMOTE_PORT":
                return static c => Port(c.RemoteEndPoint);
            case "REQUESTED_SERVER_NAME":
                return static c => c.RequestedServerName;
        }
        if (MetadataKey(name, "DESTINATION_METADATA") is { } destinationKey)
        {
            return c => c.DestinationMetadata?.GetValueOrDefault(destinationKey);
        }
        if (MetadataKey(name, "CLUSTER_METADATA") is { } clusterKey)
        {
            return c => c.ClusterMetadata?.GetValueOrDefault(clusterKey);
        }
        return null;
    }

    private static string? MetadataKey(string name, string function) =>
        name.Length > function.Length + 2 && name.StartsWith(function, StringComparison.Ordinal) && name[function.Length] == '(' && name[^1] == ')'
            ? name[(function.Length + 1)..^1]
            : null;

    private static string? Address(EndPoint? endPoint) => endPoint?.ToString();

    private static string? WithoutPort(EndPoint? endPoint) => endPoint is IPEndPoint ip ? ip.Address.ToString() : endPoint?.ToString();

    private static string? Port(EndPoint? endPoint) => endPoint is IPEndPoint ip ? ip.Port.ToString(CultureInfo.InvariantCulture) : null;
}
