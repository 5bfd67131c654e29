using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Configuration;

/// <summary><c>Protocols: Auto</c> on a cleartext socket listener, driven by curl, nghttp and h2load.</summary>
public class AutoProtocolTests
{
    /// <summary>A host with an <c>Auto</c> listener and an <c>Http1</c> listener, each on its own free loopback port.</summary>
    private static async Task<(WebApplication Host, int AutoPort, int Http1Port)> StartAsync()
    {
        var autoPort = FreePort.Get();
        var http1Port = FreePort.Get();
        var section = TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:auto:Address"] = $"tcp://127.0.0.1:{autoPort}",
            ["Listeners:auto:Protocols"] = "Auto",
            ["Listeners:h1:Address"] = $"tcp://127.0.0.1:{http1Port}",
            ["Listeners:h1:Protocols"] = "Http1",
        });
        var host = await TunnelsTestHost.StartAsync(section, new InternalListenerRegistry(),
            app => app.MapGet("/proto", (HttpContext c) => c.Response.WriteAsync(c.Request.Protocol)));
        return (host, autoPort, http1Port);
    }

    [Fact]
    public async Task Auto_CurlHttp11AndPriorKnowledgeHttp2_EachServedInItsProtocol()
    {
        var curl = ToolProcess.Require("curl");
        var (host, port, _) = await StartAsync();
        await using var _ = host;
        var url = $"http://127.0.0.1:{port}/proto";

        var http1 = await ToolProcess.RunAsync(curl, ["-sS", "--http1.1", url, url]);
        Assert.True(http1.ExitCode == 0, http1.ToString());
        // Two requests on one kept-alive connection: the sniffer hands HTTP/1.1 on for the whole connection.
        Assert.Equal("HTTP/1.1HTTP/1.1", http1.StdoutText);

        // One URL: curl 7.88 fails reusing a prior-knowledge connection (curl/curl#10634, fixed in 8.0).
        var http2 = await ToolProcess.RunAsync(curl, ["-sS", "--http2-prior-knowledge", url]);
        Assert.True(http2.ExitCode == 0, http2.ToString());
        Assert.Equal("HTTP/2", http2.StdoutText);
    }

    [Fact]
    public async Task Auto_Nghttp_ServedAsHttp2()
    {
        var nghttp = ToolProcess.Require("nghttp");
        var (host, port, _) = await StartAsync();
        await using var _ = host;

        // nghttp speaks HTTP/2 with prior knowledge on http:// URLs (no -u).
        var result = await ToolProcess.RunAsync(nghttp, [$"http://127.0.0.1:{port}/proto"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("HTTP/2", result.StdoutText.Trim());
    }

    [Fact]
    public async Task Auto_H2load200RequestsOn4Connections_AllSucceed()
    {
        var h2load = ToolProcess.Require("h2load");
        var (host, port, _) = await StartAsync();
        await using var _ = host;

        var result = await ToolProcess.RunAsync(h2load, ["-n", "200", "-c", "4", $"http://127.0.0.1:{port}/proto"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var output = result.StdoutText;
        var requests = Regex.Match(output, @"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored");
        Assert.True(requests.Success, output);
        Assert.Equal("200", requests.Groups[4].Value);
        Assert.Equal("0", requests.Groups[5].Value);
        Assert.Equal("0", requests.Groups[6].Value);
        var statuses = Regex.Match(output, @"status codes: (\d+) 2xx");
        Assert.True(statuses.Success, output);
        Assert.Equal(200, int.Parse(statuses.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.Contains("Application protocol: h2c", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_PrefaceArrivesByteByByte_AnsweredWithHttp2Settings()
    {
        var (host, port, _) = await StartAsync();
        await using var _ = host;
        var token = TestHost.TimeoutToken();
        using var client = await SocketIo.ConnectAsync(port, token);

        foreach (var b in "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray())
        {
            await SocketIo.SendAllAsync(client, new[] { b }, token);
            await Task.Delay(5, token);
        }
        // An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
        await SocketIo.SendAllAsync(client, new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 }, token);

        var header = await SocketIo.ReadExactlyAsync(client, 9, token);
        Assert.Equal(4, header[3]); // the server's SETTINGS frame
        Assert.Equal(0, header[4] & 1); // not an ACK: it is the server's own preface
    }

    [Fact]
    public async Task Http1Listener_CurlPriorKnowledgeHttp2_NotServed()
    {
        var curl = ToolProcess.Require("curl");
        var (host, _, port) = await StartAsync();
        await using var _ = host;
        var url = $"http://127.0.0.1:{port}/proto";

        var http1 = await ToolProcess.RunAsync(curl, ["-sS", url]);
        Assert.True(http1.ExitCode == 0, http1.ToString());
        Assert.Equal("HTTP/1.1", http1.StdoutText);

        var http2 = await ToolProcess.RunAsync(curl, ["-sS", "--max-time", "10", "--http2-prior-knowledge", url]);
        Assert.True(http2.ExitCode != 0, $"an Http1 listener answered HTTP/2 prior knowledge: {http2}");
        Assert.DoesNotContain("HTTP/2", http2.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_AutoAndHttp1ListenersBothOnPort0_OnlyOneAnswersHttp2()
    {
        var curl = ToolProcess.Require("curl");
        var section = TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:auto:Address"] = "tcp://127.0.0.1:0",
            ["Listeners:auto:Protocols"] = "Auto",
            ["Listeners:h1:Address"] = "tcp://127.0.0.1:0",
            ["Listeners:h1:Protocols"] = "Http1",
        });
        await using var host = await TunnelsTestHost.StartAsync(section, new InternalListenerRegistry(),
            app => app.MapGet("/proto", (HttpContext c) => c.Response.WriteAsync(c.Request.Protocol)));
        var addresses = host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Where(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, addresses.Count);

        var answers = new List<string>();
        foreach (var address in addresses)
        {
            var http1 = await ToolProcess.RunAsync(curl, ["-sS", address + "/proto"]);
            Assert.Equal("HTTP/1.1", http1.StdoutText);
            var http2 = await ToolProcess.RunAsync(curl, ["-sS", "--max-time", "10", "--http2-prior-knowledge", address + "/proto"]);
            answers.Add(http2.StdoutText);
        }

        // The Auto listener answers HTTP/2; the Http1 listener must not, though both were declared with port 0.
        Assert.Single(answers, a => a == "HTTP/2");
    }

    [Fact]
    public async Task Reload_Http1ListenerSwitchedToAuto_AnswersHttp2()
    {
        var curl = ToolProcess.Require("curl");
        var port = FreePort.Get();
        var root = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReverseProxy:Listeners:web:Address"] = $"tcp://127.0.0.1:{port}",
            ["ReverseProxy:Listeners:web:Protocols"] = "Http1",
        }).Build();
        await using var host = await TunnelsTestHost.StartAsync(root.GetSection("ReverseProxy"), new InternalListenerRegistry(),
            app => app.MapGet("/proto", (HttpContext c) => c.Response.WriteAsync(c.Request.Protocol)));
        var url = $"http://127.0.0.1:{port}/proto";
        var before = await ToolProcess.RunAsync(curl, ["-sS", "--max-time", "10", "--http2-prior-knowledge", url]);
        Assert.NotEqual("HTTP/2", before.StdoutText);

        root["ReverseProxy:Listeners:web:Protocols"] = "Auto";
        root.Reload();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        ToolResult after;
        do
        {
            await Task.Delay(100);
            after = await ToolProcess.RunAsync(curl, ["-sS", "--max-time", "10", "--http2-prior-knowledge", url]);
        }
        while (after.StdoutText != "HTTP/2" && DateTime.UtcNow < deadline);
        Assert.Equal("HTTP/2", after.StdoutText);
        var http1 = await ToolProcess.RunAsync(curl, ["-sS", url]);
        Assert.Equal("HTTP/1.1", http1.StdoutText);
    }
}
