using Microsoft.Extensions.Configuration;

namespace Yarp.Tunnels.Configuration;

/// <summary>Reads <c>ReverseProxy:Listeners</c>, recording every value that does not parse as an error naming the listener and key.</summary>
internal static class ListenerConfigReader
{
    public static List<ListenerConfig> Read(IConfiguration? listenersSection, IList<string> errors)
    {
        var result = new List<ListenerConfig>();
        if (listenersSection is null)
        {
            return result;
        }

        foreach (var section in listenersSection.GetChildren())
        {
            var name = section.Key;
            var where = $"Listener '{name}'";
            var tcp = section.GetSection("TcpProxy");
            var certificate = section.GetSection("Certificate");
            result.Add(new ListenerConfig
            {
                Name = name,
                Address = section["Address"],
                Protocols = ConfigValueReader.ReadEnum<ListenerProtocols>(section, "Protocols", where, errors),
                BufferSizeKb = ConfigValueReader.ReadInt(section, "BufferSizeKb", where, errors),
                DrainTimeout = ConfigValueReader.ReadTimeSpan(section, "DrainTimeout", where, errors),
                StatPrefix = section["StatPrefix"],
                Certificate = certificate.Exists()
                    ? new ListenerCertificateConfig { Path = certificate["Path"], KeyPath = certificate["KeyPath"], Password = certificate["Password"] }
                    : null,
                TcpProxy = tcp.Exists()
                    ? new TcpProxyConfig
                    {
                        ClusterId = tcp["ClusterId"],
                        StatPrefix = tcp["StatPrefix"],
                        IdleTimeout = ConfigValueReader.ReadTimeSpan(section, "TcpProxy:IdleTimeout", where, errors),
                        ConnectTimeout = ConfigValueReader.ReadTimeSpan(section, "TcpProxy:ConnectTimeout", where, errors),
                        Tunneling = ReadTunneling(section, where, errors),
                    }
                    : null,
            });
        }
        return result;
    }

    private static TunnelingConfig? ReadTunneling(IConfigurationSection listener, string where, IList<string> errors)
    {
        var tunneling = listener.GetSection("TcpProxy:Tunneling");
        if (!tunneling.Exists())
        {
            return null;
        }
        var headers = tunneling.GetSection("HeadersToAdd");
        var payloadTls = tunneling.GetSection("PayloadTls");
        return new TunnelingConfig
        {
            Hostname = tunneling["Hostname"],
            Protocol = ConfigValueReader.ReadEnum<TunnelProtocol>(listener, "TcpProxy:Tunneling:Protocol", where, errors),
            UsePost = ConfigValueReader.ReadBool(listener, "TcpProxy:Tunneling:UsePost", where, errors),
            PostPath = tunneling["PostPath"],
            HeadersToAdd = headers.Exists() ? headers.GetChildren().ToDictionary(h => h.Key, h => h.Value ?? "", StringComparer.OrdinalIgnoreCase) : null,
            PropagateResponseHeaders = ConfigValueReader.ReadBool(listener, "TcpProxy:Tunneling:PropagateResponseHeaders", where, errors),
            PropagateResponseTrailers = ConfigValueReader.ReadBool(listener, "TcpProxy:Tunneling:PropagateResponseTrailers", where, errors),
            MaxTunnelsPerConnection = ConfigValueReader.ReadInt(listener, "TcpProxy:Tunneling:MaxTunnelsPerConnection", where, errors),
            PayloadTls = payloadTls.Exists()
                ? new TunnelPayloadTlsConfig
                {
                    ServerName = payloadTls["ServerName"],
                    AcceptAnyServerCertificate = ConfigValueReader.ReadBool(listener, "TcpProxy:Tunneling:PayloadTls:AcceptAnyServerCertificate", where, errors),
                }
                : null,
        };
    }
}
