using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Upgrades;

/// <summary>Seed 004's truth table and the refusals, through a real gateway, with curl and HttpClient as clients.</summary>
public sealed class UpgradePolicyTests : IAsyncLifetime
{
    private const string Refused = "http.default.downstream_rq_ws_on_non_ws_route";

    private WebApplication _backend = null!;
    private UpgradeGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestHost.StartAsync(b => b.ListenLoopback(), BackendApp.Map);
        _gateway = await UpgradeGateway.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Upgrades:0:UpgradeType"] = "foo",
            ["Upgrades:1:UpgradeType"] = "bar",
            ["Upgrades:1:Enabled"] = "false",
            ["Upgrades:2:UpgradeType"] = "CONNECT",
            ["Upgrades:2:Enabled"] = "false",
            ["Routes:r-default:ClusterId"] = "backend",
            ["Routes:r-default:Match:Path"] = "/default/{**rest}",
            ["Routes:r-off:ClusterId"] = "backend",
            ["Routes:r-off:Match:Path"] = "/off/{**rest}",
            ["Routes:r-off:Upgrades:0:UpgradeType"] = "foo",
            ["Routes:r-off:Upgrades:0:Enabled"] = "false",
            ["Routes:r-on:ClusterId"] = "backend",
            ["Routes:r-on:Match:Path"] = "/on/{**rest}",
            ["Routes:r-on:Upgrades:0:UpgradeType"] = "bar",
            ["Routes:r-on:Upgrades:1:UpgradeType"] = "baz",
            ["Routes:r-bar-off:ClusterId"] = "backend",
            ["Routes:r-bar-off:Match:Path"] = "/baroff/{**rest}",
            ["Routes:r-bar-off:Upgrades:0:UpgradeType"] = "bar",
            ["Routes:r-bar-off:Upgrades:0:Enabled"] = "false",
            ["Routes:r-connect:ClusterId"] = "backend",
            ["Routes:r-connect:Match:Path"] = "/connect/{**rest}",
            ["Routes:r-connect:Connect:Enabled"] = "true",
            ["Routes:r-connect-off:ClusterId"] = "backend",
            ["Routes:r-connect-off:Match:Path"] = "/connect-off/{**rest}",
            ["Routes:r-connect-off:Connect:Enabled"] = "false",
            ["Routes:r-tunnel:ClusterId"] = "backend",
            ["Routes:r-tunnel:Match:Hosts:0"] = "allowed.example",
            ["Routes:r-tunnel:Connect:Enabled"] = "true",
            ["Routes:r-no-tunnel:ClusterId"] = "backend",
            ["Routes:r-no-tunnel:Match:Hosts:0"] = "refused.example",
            ["Clusters:backend:Destinations:d1:Address"] = TestHost.Address(_backend).ToString(),
        }), steps: UpgradeGateway.AnswerAllowedUpgrades);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Theory]
    [InlineData("/default/x", "foo", true)]       // gateway T, route default ⇒ allowed
    [InlineData("/off/x", "foo", false)]          // gateway T, route F ⇒ refused
    [InlineData("/on/x", "bar", true)]            // gateway F, route T ⇒ allowed
    [InlineData("/default/x", "bar", false)]      // gateway F, route default ⇒ refused
    [InlineData("/baroff/x", "bar", false)]       // gateway F, route F ⇒ refused
    [InlineData("/on/x", "baz", true)]            // route only ⇒ allowed
    [InlineData("/default/x", "baz", false)]      // listed nowhere ⇒ refused
    [InlineData("/default/x", "websocket", false)] // a declared list allows exactly its entries
    public async Task Http1Upgrade_TruthTable_CurlSeesAllowedOr403(string path, string token, bool allowed)
    {
        var refusedBefore = _gateway.Stat(Refused);

        var curl = await ToolProcess.RunAsync(ToolProcess.Require("curl"),
            ["-s", "-i", "--max-time", "10", "-H", "Connection: Upgrade", "-H", $"Upgrade: {token}", $"http://127.0.0.1:{_gateway.Http1Port}{path}"]);
        var response = System.Text.Encoding.ASCII.GetString(curl.Stdout);

        if (allowed)
        {
            Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
            Assert.Contains($"{UpgradeGateway.AllowedHeader}: {token}|Http1Upgrade", response, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(refusedBefore, _gateway.Stat(Refused));
        }
        else
        {
            Assert.StartsWith("HTTP/1.1 403", response, StringComparison.Ordinal);
            Assert.Contains("Connection: close", response, StringComparison.OrdinalIgnoreCase);
            Assert.Contains($"Upgrade '{token}' is not allowed on this route.", response, StringComparison.Ordinal);
            Assert.DoesNotContain("Proxy-Status", response, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(refusedBefore + 1, _gateway.Stat(Refused));
        }
    }

    [Theory]
    [InlineData("/default/x", "foo", true)]
    [InlineData("/off/x", "foo", false)]
    [InlineData("/on/x", "bar", true)]
    [InlineData("/default/x", "bar", false)]
    public async Task ExtendedConnect_TruthTable_AllowedOr403(string path, string protocol, bool allowed)
    {
        var refusedBefore = _gateway.Stat(Refused);

        using var response = await _gateway.ExtendedConnectAsync(path, protocol);

        Assert.Equal(allowed ? HttpStatusCode.OK : HttpStatusCode.Forbidden, response.StatusCode);
        if (allowed)
        {
            Assert.Equal($"{protocol}|ExtendedConnect", Assert.Single(response.Headers.GetValues(UpgradeGateway.AllowedHeader)));
        }
        Assert.False(response.Headers.Contains("Proxy-Status"));
        Assert.Equal(refusedBefore + (allowed ? 0 : 1), _gateway.Stat(Refused));
    }

    [Theory]
    [InlineData("/connect/x", true)]       // gateway F, route Connect block ⇒ allowed
    [InlineData("/connect-off/x", false)]  // gateway F, Connect:Enabled false ⇒ refused
    [InlineData("/default/x", false)]      // gateway F, no Connect block ⇒ refused
    public async Task Http2Connect_BytestreamProtocol_FollowsConnectBlock(string path, bool allowed)
    {
        var refusedBefore = _gateway.Stat(Refused);

        using var response = await _gateway.ExtendedConnectAsync(path, "bytestream");

        Assert.Equal(allowed ? HttpStatusCode.OK : HttpStatusCode.Forbidden, response.StatusCode);
        if (allowed)
        {
            Assert.Equal("CONNECT|Connect", Assert.Single(response.Headers.GetValues(UpgradeGateway.AllowedHeader)));
        }
        else
        {
            Assert.Equal("yarp-tunnels; error=http_request_denied; details=\"CONNECT is not allowed on this route\"",
                Assert.Single(response.Headers.GetValues("Proxy-Status")));
        }
        Assert.Equal(refusedBefore + (allowed ? 0 : 1), _gateway.Stat(Refused));
    }

    // A classic HTTP/2 CONNECT (no :scheme, :path or :protocol), which HttpClient cannot send: python3-h2 by hand.
    private const string Http2ConnectClient = """
        import socket, sys, h2.connection, h2.config, h2.events
        sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, validate_outbound_headers=False))
        conn.initiate_connection()
        conn.send_headers(1, [(":method", "CONNECT"), (":authority", sys.argv[2])])
        sock.sendall(conn.data_to_send())
        while True:
            data = sock.recv(65535)
            if not data:
                sys.exit("connection closed")
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    for name, value in event.headers:
                        print(f"{name.decode()}: {value.decode()}")
                    sys.exit(0)
                if isinstance(event, h2.events.StreamReset):
                    sys.exit(f"stream reset: {event.error_code}")
            sock.sendall(conn.data_to_send())
        """;

    [Theory]
    [InlineData("allowed.example:443", true)]   // route with a Connect block
    [InlineData("refused.example:443", false)]  // route without one, gateway CONNECT disabled
    public async Task Http2ClassicConnect_Python_FollowsConnectBlock(string authority, bool allowed)
    {
        var refusedBefore = _gateway.Stat(Refused);

        var python = await ToolProcess.RunAsync("/usr/bin/python3", ["-c", Http2ConnectClient, _gateway.Http2Port.ToString(CultureInfo.InvariantCulture), authority]);
        var headers = System.Text.Encoding.UTF8.GetString(python.Stdout);

        Assert.True(python.ExitCode == 0, $"python3-h2 client failed: {python.Stderr}");
        if (allowed)
        {
            Assert.Contains(":status: 200", headers, StringComparison.Ordinal);
            Assert.Contains($"{UpgradeGateway.AllowedHeader}: CONNECT|Connect", headers, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains(":status: 403", headers, StringComparison.Ordinal);
            Assert.Contains("proxy-status: yarp-tunnels; error=http_request_denied", headers, StringComparison.Ordinal);
        }
        Assert.Equal(refusedBefore + (allowed ? 0 : 1), _gateway.Stat(Refused));
    }

    [Fact]
    public async Task Http1Connect_RouteWithoutConnectBlock_CurlGets403WithProxyStatus()
    {
        var refusedBefore = _gateway.Stat(Refused);

        var curl = await ToolProcess.RunAsync(ToolProcess.Require("curl"),
            ["-s", "-v", "--max-time", "10", "-p", "-x", $"http://127.0.0.1:{_gateway.Http1Port}", "http://refused.example:443/"]);

        Assert.NotEqual(0, curl.ExitCode);
        Assert.Contains("< HTTP/1.1 403", curl.Stderr, StringComparison.Ordinal);
        Assert.Contains("< Proxy-Status: yarp-tunnels; error=http_request_denied", curl.Stderr, StringComparison.Ordinal);
        Assert.Contains("< Connection: close", curl.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(refusedBefore + 1, _gateway.Stat(Refused));
    }

    [Fact]
    public async Task Http1Connect_RouteWithConnectBlock_PassesThePolicy()
    {
        var response = await _gateway.SendRawAsync("CONNECT allowed.example:443 HTTP/1.1\r\nHost: allowed.example:443\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
        Assert.Contains($"{UpgradeGateway.AllowedHeader}: CONNECT|Connect", response, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task RefusedUpgrade_SecondRequestInSameWrite_OneResponseThenClose()
    {
        var refusedBefore = _gateway.Stat(Refused);

        // Were the bytes after the refused upgrade parsed as a request, the allowed foo upgrade would answer a second time.
        var response = await _gateway.SendRawAsync(
            "GET /default/x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: bar\r\n\r\n" +
            "GET /default/y HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 403", response, StringComparison.Ordinal);
        Assert.Single(response.Split("HTTP/1.1 ", StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain(UpgradeGateway.AllowedHeader, response, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(refusedBefore + 1, _gateway.Stat(Refused));
    }

    [Fact]
    public async Task OrdinaryRequest_UpgradeRoute_ForwardedAsUsual()
    {
        var response = await _gateway.SendRawAsync("GET /default/hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 404", response, StringComparison.Ordinal); // the backend's answer: it serves /hello, not /default/hello
        Assert.DoesNotContain(UpgradeGateway.AllowedHeader, response, StringComparison.OrdinalIgnoreCase);
    }
}
