using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// A Kestrel-shaped configuration: the app's own <c>Kestrel</c> section plus one <c>Endpoints</c> entry per HTTP socket
/// listener of <c>ReverseProxy:Listeners</c>. Kestrel loads it with <c>reloadOnChange</c>, so listeners added or removed
/// in appsettings.json are bound or unbound live.
/// </summary>
internal sealed class KestrelEndpointProjection : ConfigurationProvider, IConfigurationSource
{
    /// <summary>Prefixes projected endpoint names so they never collide with the app's own Kestrel endpoints.</summary>
    public const string EndpointPrefix = "ReverseProxy_";

    /// <summary>
    /// The listener's own <see cref="ListenerProtocols"/> under each projected endpoint. Kestrel ignores it, but it makes
    /// the endpoint's configuration differ when only the sniffing changes (Auto and Http1 both project as Http1), so a
    /// reload rebinds it, and it tells <see cref="ConfigureEndpoint"/> which endpoints sniff.
    /// </summary>
    public const string ListenerProtocolsKey = "ListenerProtocols";

    /// <summary>The listener id and <c>StatPrefix</c> under each projected endpoint, for its <see cref="IHttpListenerFeature"/>.</summary>
    public const string ListenerNameKey = "ListenerName";
    public const string StatPrefixKey = "StatPrefix";

    private readonly IConfiguration _kestrelSection;
    private readonly HashSet<string> _configuredEndpoints = new(StringComparer.OrdinalIgnoreCase);
    private IReadOnlyList<ListenerSpec> _listeners = [];

    public KestrelEndpointProjection(IConfiguration kestrelSection)
    {
        _kestrelSection = kestrelSection;
        Configuration = new ConfigurationRoot([this]);
        ChangeToken.OnChange(_kestrelSection.GetReloadToken, () => Publish(_listeners));
    }

    public IConfigurationRoot Configuration { get; }

    /// <summary>Called once per projected endpoint name, before Kestrel first loads it (to register a named endpoint callback).</summary>
    public Action<string>? ConfigureEndpoint { get; set; }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    public void Publish(IReadOnlyList<ListenerSpec> listeners)
    {
        _listeners = listeners;
        Load();
        OnReload();
    }

    public override void Load()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in _kestrelSection.AsEnumerable(makePathsRelative: true))
        {
            if (value is not null)
            {
                data[key] = value;
            }
        }
        foreach (var listener in _listeners)
        {
            if (listener.Kind != ListenerKind.SocketHttp)
            {
                continue;
            }
            var endpointName = EndpointPrefix + listener.Name;
            var prefix = $"Endpoints:{endpointName}:";
            var endPoint = listener.SocketEndPoint!;
            var host = endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]" : endPoint.Address.ToString();
            var certificate = listener.Config.Certificate;
            data[prefix + "Url"] = $"{(certificate is null ? "http" : "https")}://{host}:{endPoint.Port}";
            if (certificate is not null)
            {
                data[prefix + "Certificate:Path"] = certificate.Path;
                data[prefix + "Certificate:KeyPath"] = certificate.KeyPath;
                data[prefix + "Certificate:Password"] = certificate.Password;
            }
            // Auto is served as HTTP/1.1 with a sniffer that hands HTTP/2 connections over; on TLS, ALPN does the same job.
            data[prefix + "Protocols"] = listener.Protocols switch
            {
                ListenerProtocols.Http2 => "Http2",
                ListenerProtocols.Http1AndHttp2 => "Http1AndHttp2",
                ListenerProtocols.Auto when certificate is not null => "Http1AndHttp2",
                _ => "Http1",
            };
            data[prefix + ListenerProtocolsKey] = listener.Protocols.ToString();
            data[prefix + ListenerNameKey] = listener.Name;
            data[prefix + StatPrefixKey] = listener.StatPrefix;
            if (ConfigureEndpoint is { } configure && _configuredEndpoints.Add(endpointName))
            {
                configure(endpointName);
            }
        }
        Data = data;
    }
}
