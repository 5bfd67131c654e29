using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using Yarp.Tunnels.Connect;
using Yarp.Tunnels.Upgrades;

namespace Yarp.Tunnels.Tests.Connect;

public class ConnectConfigTests
{
    private static IConfigurationSection Json(string json) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build().GetSection("ReverseProxy");

    private static (UpgradePolicy Policy, List<string> Errors) Build(string json, TunnelUpgradeOptions? code = null)
    {
        var errors = new List<string>();
        var policy = UpgradeConfigValidator.Validate(UpgradeConfigReader.Read(Json(json), errors), UpgradesConfig.From(code ?? new()), new HashSet<string>(), errors);
        return (policy, errors);
    }

    [Fact]
    public void Read_EveryKey_IsApplied()
    {
        var (policy, errors) = Build("""
            { "ReverseProxy": { "Routes": { "egress": { "Connect": {
                "Mode": "terminate", "AllowPost": true, "ProxyProtocol": "v2", "ConnectTimeout": "00:00:03",
                "Policy": { "AllowedPorts": [ 443, 8443 ], "AllowedHosts": [ "*.example.com", "127.0.0.1:10003" ],
                            "AllowLoopback": true, "AllowPrivate": true, "AuthorizationPolicy": "proxy-users" },
                "TlsOrigination": { "ServerName": "backend.example", "ValidateCertificate": false } } } } } }
            """);

        Assert.Empty(errors);
        var connect = policy.ConnectOf("EGRESS");
        Assert.True(connect.Enabled);
        Assert.Equal(ConnectMode.Terminate, connect.Mode);
        Assert.True(connect.AllowPost);
        Assert.Equal(ProxyProtocolVersion.V2, connect.ProxyProtocol);
        Assert.Equal(TimeSpan.FromSeconds(3), connect.ConnectTimeout);
        Assert.False(connect.Decapsulate);
        Assert.Equal(new ConnectTlsOriginationConfig { ServerName = "backend.example", ValidateCertificate = false }, connect.TlsOrigination);
        Assert.True(connect.Policy.AllowLoopback);
        Assert.True(connect.Policy.AllowPrivate);
        Assert.Equal("proxy-users", connect.Policy.AuthorizationPolicy);
        Assert.True(connect.Policy.AllowsTarget(new ConnectTarget("a.example.com", 8443), out _, out _));
        Assert.False(connect.Policy.AllowsTarget(new ConnectTarget("a.example.com", 80), out _, out var reason));
        Assert.Equal("port 80 is not allowed", reason);
        Assert.True(policy.Decide("egress", "CONNECT").Allowed);
    }

    [Fact]
    public void Read_EmptyBlock_SecureDefaults()
    {
        var (policy, errors) = Build("""{ "ReverseProxy": { "Routes": { "r": { "Connect": { } } } } }""");

        Assert.Empty(errors);
        var connect = policy.ConnectOf("r");
        Assert.Equal(ConnectMode.Terminate, connect.Mode);
        Assert.False(connect.AllowPost);
        Assert.Null(connect.ProxyProtocol);
        Assert.Null(connect.TlsOrigination);
        Assert.Equal(TimeSpan.FromSeconds(10), connect.ConnectTimeout);
        Assert.True(connect.Policy.AllowsTarget(new ConnectTarget("any.example", 443), out var exact, out _));
        Assert.False(exact);
        Assert.False(connect.Policy.AllowsTarget(new ConnectTarget("any.example", 80), out _, out _));
        Assert.False(connect.Policy.AllowsAddress(IPAddress.Loopback));
        Assert.False(connect.Policy.AllowsAddress(IPAddress.Parse("10.1.2.3")));
        Assert.Null(connect.Policy.AuthorizationPolicy);
    }

    [Fact]
    public void ConnectOf_RouteWithoutBlock_IsProxyModeAsInEnvoy()
    {
        var (policy, _) = Build("""{ "ReverseProxy": { "Upgrades": [ { "UpgradeType": "CONNECT" } ], "Routes": { "r": { "ClusterId": "c" } } } }""");

        Assert.True(policy.Decide("r", "CONNECT").Allowed);
        Assert.Same(ConnectRoute.WithoutBlock, policy.ConnectOf("r"));
        Assert.Equal(ConnectMode.Proxy, policy.ConnectOf(null).Mode);
    }

    [Fact]
    public void Validate_CodeFirst_SameAsConfiguration()
    {
        var code = new TunnelUpgradeOptions();
        code.Routes["code"] = new RouteUpgradeSettings
        {
            Connect = new ConnectConfig
            {
                ProxyProtocol = ProxyProtocolVersion.V1,
                Policy = new ConnectPolicyConfig { AllowedPorts = [10003], AllowedHosts = ["localhost"], AllowLoopback = true },
            },
        };
        code.Routes["off"] = new RouteUpgradeSettings { Connect = new ConnectConfig { Enabled = false } };

        var (policy, errors) = Build("{}", code);

        Assert.Empty(errors);
        Assert.True(policy.Decide("code", "CONNECT").Allowed);
        Assert.False(policy.Decide("off", "CONNECT").Allowed);
        Assert.Equal(ProxyProtocolVersion.V1, policy.ConnectOf("code").ProxyProtocol);
        Assert.True(policy.ConnectOf("code").Policy.AllowsTarget(new ConnectTarget("LOCALHOST", 10003), out _, out _));
        Assert.False(policy.ConnectOf("code").Policy.AllowsTarget(new ConnectTarget("other", 10003), out _, out var reason));
        Assert.Equal("host 'other' is not allowed", reason);
    }

    [Fact]
    public void Validate_ManyMistakes_ReportsEachNamingRouteAndKey()
    {
        var code = new TunnelUpgradeOptions();
        code.Routes["code"] = new RouteUpgradeSettings { Connect = new ConnectConfig { Mode = ConnectMode.Proxy, ConnectTimeout = TimeSpan.Zero } };

        var (_, errors) = Build("""
            { "ReverseProxy": { "Routes": { "r": { "Connect": {
                "Enabled": "yes", "Mode": "Tunnel", "AllowPost": "sometimes", "ProxyProtocol": "v3", "Decapsulate": true,
                "ConnectTimeout": "later",
                "Policy": { "AllowedPorts": [ 0, "x", 70000 ], "AllowedHosts": [ "", "a*b.example", "host:0", "*.ok.example:8443" ],
                            "AllowLoopback": "maybe", "AllowPrivate": "no", "AuthorizationPolicy": " " },
                "TlsOrigination": { "Enabled": "on", "ServerName": "not a name", "ValidateCertificate": "off" } } } } } }
            """, code);

        string[] expected =
        [
            "Route 'r': Connect: Enabled 'yes' is not a boolean (true or false).",
            "Route 'r': Connect: Mode 'Tunnel' is not one of Terminate, Proxy.",
            "Route 'r': Connect: AllowPost 'sometimes' is not a boolean (true or false).",
            "Route 'r': Connect: ProxyProtocol 'v3' is not one of V1, V2.",
            "Route 'r': Connect: ConnectTimeout 'later' is not a time span (hh:mm:ss).",
            "Route 'r': Connect: Policy: AllowedPorts:1 'x' is not an integer.",
            "Route 'r': Connect: Policy: AllowedPorts[0] 0 is not a port (1-65535).",
            "Route 'r': Connect: Policy: AllowedPorts[1] 70000 is not a port (1-65535).",
            "Route 'r': Connect: Policy: AllowedHosts[0] '' is not a host pattern (name, *.suffix, * or an IP literal, optionally with :port).",
            "Route 'r': Connect: Policy: AllowedHosts[1] 'a*b.example' is not a host pattern (name, *.suffix, * or an IP literal, optionally with :port).",
            "Route 'r': Connect: Policy: AllowedHosts[2] 'host:0' is not a host pattern (name, *.suffix, * or an IP literal, optionally with :port).",
            "Route 'r': Connect: Policy: AllowLoopback 'maybe' is not a boolean (true or false).",
            "Route 'r': Connect: Policy: AllowPrivate 'no' is not a boolean (true or false).",
            "Route 'r': Connect: Policy: AuthorizationPolicy is empty; remove it or name a policy.",
            "Route 'r': Connect: TlsOrigination: Enabled 'on' is not a boolean (true or false).",
            "Route 'r': Connect: TlsOrigination: ValidateCertificate 'off' is not a boolean (true or false).",
            "Route 'r': Connect: TlsOrigination: ServerName 'not a name' is not a DNS name.",
            "Route 'code': Connect: ConnectTimeout must be positive.",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), errors.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("example.com:443", "example.com", 443)]
    [InlineData("127.0.0.1:10003", "127.0.0.1", 10003)]
    [InlineData("[::1]:8443", "::1", 8443)]
    [InlineData("a-b.c:1", "a-b.c", 1)]
    public void TryParse_Authority_SplitsHostAndPort(string authority, string host, int port)
    {
        Assert.True(ConnectTarget.TryParse(authority, out var target));
        Assert.Equal(new ConnectTarget(host, port), target);
    }

    [Theory]
    [InlineData("example.com")]          // missing port
    [InlineData("example.com:")]
    [InlineData("example.com:0")]
    [InlineData("example.com:65536")]
    [InlineData("example.com:+443")]
    [InlineData(":443")]
    [InlineData("user@example.com:443")]
    [InlineData("example.com:443/path")]
    [InlineData("::1:443")]               // IPv6 without brackets
    [InlineData("[::1]")]
    [InlineData("[example.com]:443")]
    [InlineData("exa mple.com:443")]
    [InlineData("")]
    public void TryParse_BadAuthority_Fails(string authority) => Assert.False(ConnectTarget.TryParse(authority, out _));

    [Theory]
    [InlineData("8.8.8.8", "Public")]
    [InlineData("127.0.0.1", "Loopback")]
    [InlineData("127.255.0.9", "Loopback")]
    [InlineData("::1", "Loopback")]
    [InlineData("::ffff:127.0.0.1", "Loopback")]
    [InlineData("10.0.0.1", "Private")]
    [InlineData("172.16.0.1", "Private")]
    [InlineData("172.32.0.1", "Public")]
    [InlineData("192.168.1.1", "Private")]
    [InlineData("100.64.0.1", "Private")]
    [InlineData("169.254.169.254", "Private")]
    [InlineData("fd00::1", "Private")]
    [InlineData("fe80::1", "Private")]
    [InlineData("0.0.0.0", "Never")]
    [InlineData("224.0.0.1", "Never")]
    [InlineData("255.255.255.255", "Never")]
    [InlineData("ff02::1", "Never")]
    [InlineData("::", "Never")]
    [InlineData("2001:db8::1", "Public")]
    public void Classify_Address_ByRange(string address, string expected) =>
        Assert.Equal(expected, ConnectTargetPolicy.Classify(IPAddress.Parse(address)).ToString());

    [Fact]
    public void AllowsTarget_IpEndpointEntry_IsExactAndBypassesAddressChecks()
    {
        var policy = new ConnectTargetPolicy(new ConnectPolicyConfig { AllowedHosts = ["127.0.0.1:10003", "*"] });

        Assert.True(policy.AllowsTarget(new ConnectTarget("127.0.0.1", 10003), out var exact, out _));
        Assert.True(exact);
        Assert.True(policy.AllowsTarget(new ConnectTarget("127.0.0.1", 443), out exact, out _));
        Assert.False(exact); // allowed by "*" on 443, but then the loopback address is refused
        Assert.False(policy.AllowsAddress(IPAddress.Loopback));
        Assert.True(policy.AllowsTarget(new ConnectTarget("localhost", 443), out exact, out _));
        Assert.False(exact);
        Assert.False(policy.AllowsTarget(new ConnectTarget("127.0.0.1", 10004), out _, out _));
    }

    [Theory]
    [InlineData("*.example.com", "a.example.com", true)]
    [InlineData("*.example.com", "a.b.EXAMPLE.com", true)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("*.example.com", "badexample.com", false)]
    [InlineData("example.com", "EXAMPLE.COM", true)]
    [InlineData("::1", "::1", true)]
    [InlineData("::1", "0:0::1", true)]
    public void MatchesHost_Patterns(string pattern, string host, bool matches)
    {
        Assert.True(ConnectTargetPolicy.HostRule.TryParse(pattern, out var rule));
        Assert.Equal(matches, rule.MatchesHost(host));
    }
}
