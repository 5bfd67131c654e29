using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Connect;

/// <summary>Classic HTTP/2 CONNECT termination, driven by python3-h2 and node's http2 module (HttpClient cannot send it).</summary>
public sealed class ConnectHttp2Tests(ConnectFixture fixture) : IClassFixture<ConnectFixture>
{
    private const string Python = "/usr/bin/python3";
    private const string UpgradesActive = "http.default.downstream_cx_upgrades_active";
    private const string TunnelsActive = "http.default.connect_tunnels_active";

    private ConnectGateway Gateway => fixture.Gateway;

    private static async Task<JsonElement> PythonAsync(int port, string authority, params string[] options)
    {
        Assert.True(File.Exists(Python), $"{Python} is required (CI: apt-get install python3-h2).");
        var script = Path.Combine(RepoPaths.Interop, "python", "h2_connect_client.py");
        var result = await ToolProcess.RunAsync(Python, [script, "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), authority, .. options],
            timeout: TimeSpan.FromSeconds(50));
        Assert.True(result.ExitCode == 0, $"h2_connect_client.py failed: {result}");
        return JsonDocument.Parse(result.StdoutText).RootElement.Clone();
    }

    private static async Task<JsonElement> NodeAsync(int port, string authority, params string[] options)
    {
        var script = Path.Combine(RepoPaths.Interop, "node", "h2-connect-client.js");
        var result = await ToolProcess.RunAsync(ToolProcess.Require("node"), [script, port.ToString(CultureInfo.InvariantCulture), authority, .. options],
            timeout: TimeSpan.FromSeconds(50));
        Assert.True(result.ExitCode == 0, $"h2-connect-client.js failed: {result}");
        return JsonDocument.Parse(result.StdoutText).RootElement.Clone();
    }

    private async Task AssertGaugesBackToZeroAsync()
    {
        await Gateway.App.WaitForStatAsync(UpgradesActive, 0);
        await Gateway.App.WaitForStatAsync(TunnelsActive, 0);
    }

    [Fact]
    public async Task Python_HundredConcurrentStreamsOnOneConnection_AllEchoed()
    {
        var totalBefore = Gateway.Stat("http.default.downstream_cx_upgrades_total");

        var result = await PythonAsync(Gateway.Http2Port, "fixed.test:443", "--streams", "100", "--bytes", "65536");

        Assert.Equal(100, result.GetProperty("statuses").GetProperty("200").GetInt32());
        Assert.Equal(100, result.GetProperty("echoed").GetInt32());
        Assert.Equal(0, result.GetProperty("mismatched").GetInt32());
        Assert.True(Gateway.Stat("http.default.downstream_cx_upgrades_total") >= totalBefore + 100);
        await AssertGaugesBackToZeroAsync();
    }

    [Fact]
    public async Task Python_TenMiBEachWay_ByteExact()
    {
        var result = await PythonAsync(Gateway.Http2Port, $"127.0.0.1:{fixture.Echo.Port}", "--bytes", Payload.TenMiB.ToString(CultureInfo.InvariantCulture));

        Assert.Equal(1, result.GetProperty("echoed").GetInt32());
        await AssertGaugesBackToZeroAsync();
    }

    [Fact]
    public async Task Python_OneStreamReset_OthersComplete()
    {
        var result = await PythonAsync(Gateway.Http2Port, "fixed.test:443", "--streams", "20", "--bytes", "200000", "--reset-one");

        Assert.Equal(20, result.GetProperty("statuses").GetProperty("200").GetInt32());
        Assert.Equal(19, result.GetProperty("echoed").GetInt32());
        Assert.Equal(0, result.GetProperty("resetByServer").GetInt32());
        await AssertGaugesBackToZeroAsync();
    }

    [Fact]
    public async Task Python_OverTlsWithAlpnH2_Echoes()
    {
        var result = await PythonAsync(Gateway.TlsPort, "fixed.test:443", "--tls", "--streams", "3", "--bytes", "100000");

        Assert.Equal(3, result.GetProperty("echoed").GetInt32());
    }

    [Fact]
    public async Task Node_HundredConcurrentStreams_AndTenMiB_ByteExact()
    {
        var many = await NodeAsync(Gateway.Http2Port, "fixed.test:443", "--streams", "100", "--bytes", "65536");
        var large = await NodeAsync(Gateway.Http2Port, $"127.0.0.1:{fixture.Echo.Port}", "--bytes", Payload.TenMiB.ToString(CultureInfo.InvariantCulture));

        Assert.Equal(100, many.GetProperty("echoed").GetInt32());
        Assert.Equal(1, large.GetProperty("echoed").GetInt32());
        await AssertGaugesBackToZeroAsync();
    }

    [Fact]
    public async Task Node_OneStreamReset_OthersComplete()
    {
        var result = await NodeAsync(Gateway.Http2Port, "fixed.test:443", "--streams", "10", "--bytes", "100000", "--reset-one");

        Assert.Equal(9, result.GetProperty("echoed").GetInt32());
        Assert.Equal(0, result.GetProperty("resetByServer").GetInt32());
        await AssertGaugesBackToZeroAsync();
    }

    [Theory]
    [InlineData("off.test:443", 403, "http_request_denied")]            // Connect:Enabled false
    [InlineData("nomatch.test:443", 403, "http_request_denied")]        // no route
    [InlineData("localhost:443", 403, "destination_ip_prohibited")]     // resolves to loopback
    [InlineData("strict.test:25", 403, "destination_ip_prohibited")]    // port not allowed
    public async Task Python_Refused_SameAnswerAsHttp1(string authority, int status, string error)
    {
        const string refused = "http.default.downstream_rq_ws_on_non_ws_route";
        var refusedBefore = Gateway.Stat(refused);

        var result = await PythonAsync(Gateway.Http2Port, authority);

        var headers = result.GetProperty("headers");
        Assert.Equal(status.ToString(CultureInfo.InvariantCulture), headers.GetProperty(":status").GetString());
        Assert.StartsWith($"yarp-tunnels; error={error}", headers.GetProperty("proxy-status").GetString(), StringComparison.Ordinal);
        // CONNECT not enabled counts as a refused upgrade; a target the policy refuses does not.
        Assert.Equal(refusedBefore + (error == "http_request_denied" ? 1 : 0), Gateway.Stat(refused));
    }

    [Fact]
    public async Task ExtendedConnectBytestream_IsPlainConnect()
    {
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = await SocketIo.ConnectAsync(Gateway.Http2Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var client = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Connect, "http://fixed.test:443/")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Protocol = "bytestream";

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestHost.TimeoutToken());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var stream = await response.Content.ReadAsStreamAsync();
        await stream.WriteAsync("bytes"u8.ToArray());
        await stream.FlushAsync();
        var buffer = new byte[5];
        await stream.ReadExactlyAsync(buffer, TestHost.TimeoutToken());
        Assert.Equal("bytes"u8.ToArray(), buffer);
    }
}
