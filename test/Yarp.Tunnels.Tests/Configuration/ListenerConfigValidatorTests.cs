using Yarp.ReverseProxy.Configuration;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.Tests.Configuration;

public class ListenerConfigValidatorTests
{
    private static readonly ClusterConfig _echo = new() { ClusterId = "echo", Destinations = new Dictionary<string, DestinationConfig> { ["d"] = new() { Address = "tcp://127.0.0.1:1" } } };

    [Fact]
    public void Validate_ValidListeners_ClassifiesKinds()
    {
        var errors = new List<string>();
        var specs = ListenerConfigValidator.Validate(
        [
            new ListenerConfig { Name = "web", Address = "tcp://0.0.0.0:8080", Protocols = ListenerProtocols.Auto },
            new ListenerConfig { Name = "l4", Address = "tcp://[::1]:9000", TcpProxy = new TcpProxyConfig { ClusterId = "echo" } },
            new ListenerConfig { Name = "inner", Address = "envoy-internal://inner", BufferSizeKb = 8192 },
            new ListenerConfig { Name = "encap", Address = "envoy-internal://encap", TcpProxy = new TcpProxyConfig { ClusterId = "echo" } },
        ], [_echo], _ => false, errors);

        Assert.Empty(errors);
        Assert.Equal([ListenerKind.SocketHttp, ListenerKind.SocketTcpProxy, ListenerKind.InternalHttp, ListenerKind.InternalTcpProxy], specs.Select(s => s.Kind));
        Assert.Equal(9000, specs[1].SocketEndPoint!.Port);
        Assert.Equal("encap", specs[3].InternalName);
    }

    [Fact]
    public void Validate_ManyMistakes_ReportsEachNamingListenerAndKey()
    {
        var errors = new List<string>();
        var specs = ListenerConfigValidator.Validate(
        [
            new ListenerConfig { Name = "a", Address = "envoy-internal://a", BufferSizeKb = 8193 },
            new ListenerConfig { Name = "b", Address = null },
            new ListenerConfig { Name = "c", Address = "udp://1.2.3.4:5" },
            new ListenerConfig { Name = "d", Address = "tcp://127.0.0.1:7000" },
            new ListenerConfig { Name = "e", Address = "tcp://127.0.0.1:7000" },
            new ListenerConfig { Name = "f", Address = "envoy-internal://f", TcpProxy = new TcpProxyConfig { IdleTimeout = TimeSpan.FromSeconds(-1) } },
            new ListenerConfig { Name = "g", Address = "envoy-internal://g/path" },
        ], [_echo], _ => false, errors);

        Assert.Single(specs);
        Assert.Contains("Listener 'a': BufferSizeKb 8193 is out of range (1-8192).", errors);
        Assert.Contains(errors, e => e.StartsWith("Listener 'b': Address is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Listener 'c': Address 'udp://1.2.3.4:5' is malformed", StringComparison.Ordinal));
        Assert.Contains("Listener 'e': Address 'tcp://127.0.0.1:7000' is already used by listener 'd'.", errors);
        Assert.Contains("Listener 'f': TcpProxy:ClusterId is required.", errors);
        Assert.Contains("Listener 'f': TcpProxy:IdleTimeout must not be negative.", errors);
        Assert.Contains(errors, e => e.StartsWith("Listener 'g': Address 'envoy-internal://g/path' is malformed", StringComparison.Ordinal));
        Assert.Equal(7, errors.Count);
    }

    [Fact]
    public void Validate_StatPrefixes_HttpDefaultsToIdAndBadOnesReported()
    {
        var errors = new List<string>();
        var specs = ListenerConfigValidator.Validate(
        [
            new ListenerConfig { Name = "web", Address = "tcp://127.0.0.1:0" },
            new ListenerConfig { Name = "front", Address = "tcp://127.0.0.1:0", StatPrefix = "ingress_http" },
            new ListenerConfig { Name = "blank", Address = "envoy-internal://blank", StatPrefix = "" },
            new ListenerConfig { Name = "spaced", Address = "envoy-internal://spaced", StatPrefix = "in gress" },
            new ListenerConfig { Name = "l4", Address = "tcp://127.0.0.1:0", StatPrefix = "x", TcpProxy = new TcpProxyConfig { ClusterId = "echo" } },
            new ListenerConfig { Name = "l4b", Address = "tcp://127.0.0.1:0", TcpProxy = new TcpProxyConfig { ClusterId = "echo", StatPrefix = "a\tb" } },
        ], [_echo], _ => false, errors);

        Assert.Equal(["web", "ingress_http"], specs.Select(s => s.StatPrefix));
        Assert.Equal(
        [
            "Listener 'blank': StatPrefix '' is not a valid stat name (non-empty, no whitespace).",
            "Listener 'l4': StatPrefix applies to HTTP listeners; a TCP proxy listener takes TcpProxy:StatPrefix.",
            "Listener 'l4b': TcpProxy:StatPrefix 'a\tb' is not a valid stat name (non-empty, no whitespace).",
            "Listener 'spaced': StatPrefix 'in gress' is not a valid stat name (non-empty, no whitespace).",
        ], errors.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CertificateToString_WithPassword_Redacted()
    {
        var listener = new ListenerConfig { Name = "tls", Certificate = new ListenerCertificateConfig { Path = "c.pfx", Password = "s3cret" } };

        var text = listener.ToString();

        Assert.DoesNotContain("s3cret", text, StringComparison.Ordinal);
        Assert.Contains("Path = c.pfx", text, StringComparison.Ordinal);
        Assert.Contains("Password = ***", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateClusterReferences_UnknownAndMalformed_ReportsBoth()
    {
        var cluster = new ClusterConfig
        {
            ClusterId = "c",
            Destinations = new Dictionary<string, DestinationConfig>
            {
                ["known"] = new() { Address = "envoy-internal://known" },
                ["unknown"] = new() { Address = "envoy-internal://missing" },
                ["bad"] = new() { Address = "envoy-internal://x:1" },
                ["socket"] = new() { Address = "http://127.0.0.1:1" },
            },
        };
        var errors = new List<string>();

        ListenerConfigValidator.ValidateClusterReferences(cluster, name => name == "known", errors);

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Contains("destination 'unknown'", StringComparison.Ordinal) && e.Contains("'missing'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("destination 'bad'", StringComparison.Ordinal) && e.Contains("takes no port", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_TunnelingMistakes_ReportsEachNamingListenerAndKey()
    {
        static ListenerConfig Tunnel(string name, TunnelingConfig tunneling) =>
            new() { Name = name, Address = "tcp://127.0.0.1:0", TcpProxy = new TcpProxyConfig { ClusterId = "echo", Tunneling = tunneling } };
        var errors = new List<string>();

        var specs = ListenerConfigValidator.Validate(
        [
            Tunnel("a", new TunnelingConfig()),
            Tunnel("b", new TunnelingConfig { Hostname = "%SNI%:443", PostPath = "/up" }),
            Tunnel("c", new TunnelingConfig
            {
                Hostname = "h:1",
                UsePost = true,
                PostPath = "no-slash",
                HeadersToAdd = new Dictionary<string, string> { ["Host"] = "x", ["bad name"] = "y", ["x-port"] = "%DOWNSTREAM_PORT%" },
            }),
            Tunnel("d", new TunnelingConfig { Hostname = "h:1", MaxTunnelsPerConnection = 10 }),
            Tunnel("e", new TunnelingConfig { Hostname = "h:1", Protocol = TunnelProtocol.Http2, MaxTunnelsPerConnection = 0 }),
            Tunnel("f", new TunnelingConfig { Hostname = "h:1", PayloadTls = new TunnelPayloadTlsConfig { ServerName = "a b" } }),
        ], [_echo], _ => false, errors);

        Assert.Empty(specs);
        Assert.Equal(
        [
            "Listener 'a': TcpProxy:Tunneling:Hostname is required (the CONNECT authority host:port, or the POST host).",
            "Listener 'b': TcpProxy:Tunneling:Hostname '%SNI%:443': unknown variable '%SNI%' (known: %DOWNSTREAM_LOCAL_ADDRESS%, %DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%, %DOWNSTREAM_LOCAL_PORT%, %DOWNSTREAM_REMOTE_ADDRESS%, %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%, %DOWNSTREAM_REMOTE_PORT%, %REQUESTED_SERVER_NAME%, %DESTINATION_METADATA(key)%, %CLUSTER_METADATA(key)%).",
            "Listener 'b': TcpProxy:Tunneling:PostPath applies only with UsePost: true.",
            "Listener 'c': TcpProxy:Tunneling:HeadersToAdd:Host cannot be set: the tunnel manages it.",
            "Listener 'c': TcpProxy:Tunneling:HeadersToAdd:bad name is not a valid header name.",
            "Listener 'c': TcpProxy:Tunneling:HeadersToAdd:x-port '%DOWNSTREAM_PORT%': unknown variable '%DOWNSTREAM_PORT%' (known: %DOWNSTREAM_LOCAL_ADDRESS%, %DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%, %DOWNSTREAM_LOCAL_PORT%, %DOWNSTREAM_REMOTE_ADDRESS%, %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%, %DOWNSTREAM_REMOTE_PORT%, %REQUESTED_SERVER_NAME%, %DESTINATION_METADATA(key)%, %CLUSTER_METADATA(key)%).",
            "Listener 'c': TcpProxy:Tunneling:PostPath 'no-slash' must start with '/' and contain no whitespace.",
            "Listener 'd': TcpProxy:Tunneling:MaxTunnelsPerConnection applies only with Protocol: Http2 (HTTP/1.1 opens one connection per tunnel).",
            "Listener 'e': TcpProxy:Tunneling:MaxTunnelsPerConnection must be at least 1.",
            "Listener 'f': TcpProxy:Tunneling:PayloadTls:ServerName 'a b' is not a host name.",
        ], errors.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TunnelingConfigEquals_SameHeadersInNewDictionary_Equal()
    {
        var a = new TunnelingConfig { Hostname = "h:1", HeadersToAdd = new Dictionary<string, string> { ["foo"] = "bar", ["x"] = "1" } };
        var b = new TunnelingConfig { Hostname = "h:1", HeadersToAdd = new Dictionary<string, string> { ["X"] = "1", ["foo"] = "bar" } };
        var c = b with { HeadersToAdd = new Dictionary<string, string> { ["X"] = "2", ["foo"] = "bar" } };

        Assert.Equal(a, b);
        Assert.Equal(new TcpProxyConfig { ClusterId = "l2", Tunneling = a }, new TcpProxyConfig { ClusterId = "l2", Tunneling = b });
        Assert.NotEqual(a, c);
    }
}
