using System.Text;
using Microsoft.Extensions.Configuration;
using Yarp.Tunnels.Connect;
using Yarp.Tunnels.Upgrades;

namespace Yarp.Tunnels.Tests.Upgrades;

public class UpgradeConfigTests
{
    private static readonly HashSet<string> _chains = ["ws-chain"];

    private static IConfigurationSection Json(string json) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build().GetSection("ReverseProxy");

    private static UpgradePolicy Build(string json, TunnelUpgradeOptions? code = null)
    {
        var errors = new List<string>();
        var policy = UpgradeConfigValidator.Validate(UpgradeConfigReader.Read(Json(json), errors), UpgradesConfig.From(code ?? new()), _chains, errors);
        Assert.Empty(errors);
        return policy;
    }

    private static List<string> Errors(string json, TunnelUpgradeOptions? code = null)
    {
        var errors = new List<string>();
        UpgradeConfigValidator.Validate(UpgradeConfigReader.Read(Json(json), errors), UpgradesConfig.From(code ?? new()), _chains, errors);
        return errors;
    }

    // Seed 004's table (gateway × route) plus a route enabling a type the gateway does not list.
    [Theory]
    [InlineData("r-default", "foo", true)]     // gateway T, route default  ⇒ T
    [InlineData("r-off", "foo", false)]        // gateway T, route F        ⇒ F
    [InlineData("r-on", "bar", true)]          // gateway F, route T        ⇒ T
    [InlineData("r-default", "bar", false)]    // gateway F, route default  ⇒ F
    [InlineData("r-bar-off", "bar", false)]    // gateway F, route F        ⇒ F
    [InlineData("r-on", "baz", true)]          // route only               ⇒ T
    [InlineData("r-default", "baz", false)]    // listed nowhere           ⇒ F
    [InlineData("r-default", "websocket", false)] // a declared list allows exactly its entries
    [InlineData("r-default", "FOO", true)]     // tokens are case-insensitive
    [InlineData("R-ON", "Bar", true)]          // route ids too
    [InlineData("r-default", "CONNECT", false)]
    [InlineData("r-connect", "CONNECT", true)] // a Connect block enables CONNECT
    [InlineData("r-connect-off", "CONNECT", false)]
    [InlineData(null, "foo", true)]            // no route: the gateway list decides
    public void Decide_TruthTable_RouteWinsBothWays(string? route, string type, bool allowed)
    {
        var policy = Build("""
            { "ReverseProxy": {
                "Upgrades": [ { "UpgradeType": "foo" }, { "UpgradeType": "bar", "Enabled": false }, { "UpgradeType": "CONNECT", "Enabled": "false" } ],
                "Routes": {
                  "r-default": { "ClusterId": "c" },
                  "r-off": { "Upgrades": [ { "UpgradeType": "foo", "Enabled": false } ] },
                  "r-on": { "Upgrades": [ { "UpgradeType": "bar" }, { "UpgradeType": "baz", "Enabled": true } ] },
                  "r-bar-off": { "Upgrades": [ { "UpgradeType": "bar", "Enabled": false } ] },
                  "r-connect": { "Connect": { } },
                  "r-connect-off": { "Connect": { "Enabled": false } }
                } } }
            """);

        Assert.Equal(allowed, policy.Decide(route, type).Allowed);
    }

    [Theory]
    [InlineData("websocket", true)]
    [InlineData("WebSocket", true)]
    [InlineData("foo", false)]
    [InlineData("CONNECT", false)]
    public void Decide_NoGatewayList_OnlyWebSocket(string type, bool allowed)
    {
        Assert.Equal(allowed, UpgradePolicy.Default.Decide("any", type).Allowed);
        Assert.Equal(allowed, Build("""{ "ReverseProxy": { "Routes": { "r": { "ClusterId": "c" } } } }""").Decide("r", type).Allowed);
    }

    [Fact]
    public void Decide_EmptyGatewayList_RefusesEverything()
    {
        var policy = Build("""{ "ReverseProxy": { "Upgrades": [ ] } }""");

        Assert.False(policy.Decide("r", "websocket").Allowed);
    }

    [Fact]
    public void Decide_ChainAndIdleTimeout_ComeFromGatewayEntryAndRoute()
    {
        var policy = Build("""
            { "ReverseProxy": {
                "Upgrades": [ { "UpgradeType": "websocket", "Chain": "ws-chain", "Enabled": false } ],
                "Routes": { "ws": { "Upgrades": [ { "UpgradeType": "websocket" } ], "UpgradeIdleTimeout": "00:00:30" } } } }
            """);

        Assert.Equal(new UpgradeDecision(true, "ws-chain", TimeSpan.FromSeconds(30)), policy.Decide("ws", "websocket"));
        Assert.Equal(new UpgradeDecision(false, "ws-chain", null), policy.Decide("other", "websocket"));
    }

    [Fact]
    public void Validate_CodeOptions_AddToConfiguration()
    {
        var code = new TunnelUpgradeOptions { Upgrades = [new UpgradeConfig { UpgradeType = "foo" }] };
        code.Routes["code-route"] = new RouteUpgradeSettings { Upgrades = [new RouteUpgradeConfig { UpgradeType = "foo", Enabled = false }], Connect = new ConnectConfig() };

        var policy = Build("""{ "ReverseProxy": { "Upgrades": [ { "UpgradeType": "websocket" } ] } }""", code);

        Assert.True(policy.Decide("r", "websocket").Allowed);
        Assert.True(policy.Decide("r", "foo").Allowed);
        Assert.False(policy.Decide("code-route", "foo").Allowed);
        Assert.True(policy.Decide("code-route", "CONNECT").Allowed);
    }

    [Fact]
    public void Validate_CodeListOnly_IsADeclaredList()
    {
        var policy = Build("{}", new TunnelUpgradeOptions { Upgrades = [] });

        Assert.False(policy.Decide("r", "websocket").Allowed);
    }

    [Fact]
    public void Validate_ManyMistakes_ReportsEachNamingEntryAndKey()
    {
        var code = new TunnelUpgradeOptions { Upgrades = [new UpgradeConfig { UpgradeType = "FOO" }] };
        code.Routes["dup"] = new RouteUpgradeSettings();

        var errors = Errors("""
            { "ReverseProxy": {
                "Upgrades": [
                  { "UpgradeType": "" },
                  { "UpgradeType": "web socket" },
                  { "UpgradeType": "foo", "Chain": "missing" },
                  { "UpgradeType": "foo" },
                  { "UpgradeType": "bar", "Enabled": "yes" },
                  { "UpgradeType": "/1" }
                ],
                "Routes": {
                  "r": {
                    "Upgrades": [ { "UpgradeType": "CONNECT" }, { "UpgradeType": "x" }, { "UpgradeType": "X" }, { "Enabled": "no" } ],
                    "Connect": { "Enabled": "maybe" },
                    "UpgradeIdleTimeout": "-00:00:01"
                  },
                  "t": { "UpgradeIdleTimeout": "soon" },
                  "dup": { "Connect": { "Mode": "Terminate" } }
                } } }
            """, code);

        string[] expected =
        [
            "Upgrades[0]: UpgradeType is required.",
            "Upgrades[1]: UpgradeType 'web socket' is not a valid upgrade token (RFC 9110: token or token/version).",
            "Upgrades[2]: Chain 'missing' is not registered (register it with AddUpgradeChain(\"missing\", …)).",
            "Upgrades[3]: UpgradeType 'foo' is listed more than once.",
            "Upgrades[4]: Enabled 'yes' is not a boolean (true or false).",
            "Upgrades[5]: UpgradeType '/1' is not a valid upgrade token (RFC 9110: token or token/version).",
            "TunnelUpgradeOptions.Upgrades[0]: UpgradeType 'FOO' is listed more than once.",
            "Route 'r': Upgrades[0]: CONNECT is switched per route by the route's Connect block (Connect:Enabled), not by Upgrades.",
            "Route 'r': Upgrades[2]: UpgradeType 'X' is listed more than once.",
            "Route 'r': Upgrades[3]: Enabled 'no' is not a boolean (true or false).",
            "Route 'r': Upgrades[3]: UpgradeType is required.",
            "Route 'r': Connect: Enabled 'maybe' is not a boolean (true or false).",
            "Route 'r': UpgradeIdleTimeout must be positive.",
            "Route 't': UpgradeIdleTimeout 'soon' is not a time span (hh:mm:ss).",
            "Route 'dup': upgrade settings are declared both in configuration and in code; keep one.",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), errors.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("websocket", true)]
    [InlineData("SPDY/3.1", true)]
    [InlineData("h2c", true)]
    [InlineData("a/b/c", false)]
    [InlineData("a/", false)]
    [InlineData("a b", false)]
    [InlineData("a,b", false)]
    [InlineData("", false)]
    public void IsUpgradeToken_Rfc9110Grammar(string value, bool valid) =>
        Assert.Equal(valid, UpgradeConfigValidator.IsUpgradeToken(value));
}
