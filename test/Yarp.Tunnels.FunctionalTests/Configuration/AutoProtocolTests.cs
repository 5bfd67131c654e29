using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Configuration;

/// <summary><c>Protocols: Auto</c> on a cleartext socket listener, driven by curl, nghttp and h2load.</summary>
public class AutoProtocolTests
{
    private static readonly byte[] _preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    /// <summary>An empty SETTINGS frame: length 0, type 4, no flags, stream 0.</summary>
    private static readonly byte[] _emptySettings = [0, 0, 0, 4, 0, 0, 0, 0, 0];

    /// <summary>
    /// A host with an <c>Auto</c> listener and an <c>Http1</c> listener, each on its own free loopback port;
    /// <paramref name="configure"/> may set Kestrel's limits or services.
    /// </summary>
    private static async Task<(WebApplication Host, int AutoPort, int Http1Port)> StartAsync(Action<WebApplicationBuilder>? configure = null)
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
        var host = await TestHost.StartAsync(b =>
        {
            configure?.Invoke(b);
            b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, new InternalListenerRegistry());
        }, app =>
        {
            app.MapGet("/proto", (HttpContext c) => c.Response.WriteAsync(c.Request.Protocol));
            app.MapReverseProxy();
        });
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

        foreach (var b in _preface)
        {
            await SocketIo.SendAllAsync(client, new[] { b }, token);
            await Task.Delay(5, token);
        }
        await SocketIo.SendAllAsync(client, _emptySettings, token);

        await AssertServerSettingsAsync(client, token);
    }

    /// <summary>The server's first frame is its own SETTINGS (not an ACK): the connection is served as HTTP/2. Reads the whole frame.</summary>
    private static async Task AssertServerSettingsAsync(Socket client, CancellationToken token)
    {
        var header = await SocketIo.ReadExactlyAsync(client, 9, token);
        Assert.Equal(4, header[3]);
        Assert.Equal(0, header[4] & 1);
        await SocketIo.ReadExactlyAsync(client, (header[0] << 16) | (header[1] << 8) | header[2], token);
    }

    /// <summary>Reads until the server closes (EOF or reset), within <paramref name="timeout"/>; returns what it sent first.</summary>
    private static async Task<byte[]> ReadUntilClosedAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Assert.Fail($"The server did not close the connection within {timeout}; it sent {received.Length} bytes.");
        }
        return received.ToArray();
    }

    [Fact]
    public async Task Auto_SilentAndPartialPrefaceClients_ClosedAtKestrelTimeoutsLikeHttp1()
    {
        var keepAlive = TimeSpan.FromSeconds(3);
        var headers = TimeSpan.FromSeconds(2);
        var (host, autoPort, http1Port) = await StartAsync(b => b.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.KeepAliveTimeout = keepAlive;
            k.Limits.RequestHeadersTimeout = headers;
        }));
        await using var _ = host;
        var token = TestHost.TimeoutToken();

        async Task<(byte[] Received, TimeSpan Open)> ClientAsync(int port, byte[] sent, bool http2 = false)
        {
            // Timed from before the connect: the server's timers start once it accepted, which a loaded client may
            // only learn of later (timing from the connect's return then measured too short a life).
            var opened = Stopwatch.GetTimestamp();
            using var socket = await SocketIo.ConnectAsync(port, token);
            await SocketIo.SendAllAsync(socket, sent, token);
            if (http2)
            {
                await AssertServerSettingsAsync(socket, token);
            }
            var received = await ReadUntilClosedAsync(socket, TimeSpan.FromSeconds(20));
            return (received, Stopwatch.GetElapsedTime(opened));
        }

        var partialPreface = "PRI * HT"u8.ToArray();
        var results = await Task.WhenAll(
            ClientAsync(autoPort, []), ClientAsync(http1Port, []),
            ClientAsync(autoPort, partialPreface), ClientAsync(http1Port, partialPreface),
            ClientAsync(autoPort, [.. _preface, .. _emptySettings], http2: true));
        var (silentAuto, silentHttp1, partialAuto, partialHttp1, idleHttp2) = (results[0], results[1], results[2], results[3], results[4]);

        // Silence: both listeners close without a word, not before the keep-alive timeout.
        Assert.Empty(silentHttp1.Received);
        Assert.Empty(silentAuto.Received);
        Assert.True(silentAuto.Open >= keepAlive - TimeSpan.FromMilliseconds(50), $"closed after {silentAuto.Open}");
        // A partial request: Http1 answers 408; a partial HTTP/2 preface has no HTTP/1 answer, so Auto only closes.
        Assert.StartsWith("HTTP/1.1 408", System.Text.Encoding.ASCII.GetString(partialHttp1.Received), StringComparison.Ordinal);
        Assert.Empty(partialAuto.Received);
        Assert.True(partialAuto.Open >= headers - TimeSpan.FromMilliseconds(50), $"closed after {partialAuto.Open}");
        // Once served as HTTP/2, Kestrel's own heartbeat-driven keep-alive timeout closes the idle connection (GOAWAY).
        Assert.Contains((byte)7, FrameTypes(idleHttp2.Received));
        Assert.True(idleHttp2.Open >= keepAlive - TimeSpan.FromMilliseconds(50), $"closed after {idleHttp2.Open}");
    }

    [Fact]
    public async Task Auto_FakeClock_SilentClosedAtKeepAliveAndPartialAtRequestHeadersTimeout()
    {
        var time = new TimerSignallingTimeProvider();
        var (host, port, _) = await StartAsync(b => b.Services.AddSingleton<TimeProvider>(time));
        await using var _ = host;
        var limits = host.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        var token = TestHost.TimeoutToken();

        async Task<Socket> ConnectAsync(bool partial)
        {
            var socket = await SocketIo.ConnectAsync(port, token);
            await time.WaitForTimerAsync(limits.KeepAliveTimeout, token);
            if (partial)
            {
                await SocketIo.SendAllAsync(socket, _preface.AsMemory(0, 8), token);
                await time.WaitForTimerAsync(limits.RequestHeadersTimeout, token);
            }
            return socket;
        }

        using var silentServed = await ConnectAsync(partial: false);
        using var silentClosed = await ConnectAsync(partial: false);
        using var partialServed = await ConnectAsync(partial: true);
        using var partialClosed = await ConnectAsync(partial: true);

        // Just before the request-headers timeout the partial preface is still waited for; at it, it is closed.
        time.Advance(limits.RequestHeadersTimeout - TimeSpan.FromMilliseconds(1));
        await SocketIo.SendAllAsync(partialServed, _preface.AsMemory(8), token);
        await SocketIo.SendAllAsync(partialServed, _emptySettings, token);
        await AssertServerSettingsAsync(partialServed, token);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Empty(await ReadUntilClosedAsync(partialClosed, TimeSpan.FromSeconds(15)));

        // The silent ones wait for the keep-alive timeout, measured from their connect.
        time.Advance(limits.KeepAliveTimeout - limits.RequestHeadersTimeout - TimeSpan.FromMilliseconds(1));
        await SocketIo.SendAllAsync(silentServed, _preface, token);
        await SocketIo.SendAllAsync(silentServed, _emptySettings, token);
        await AssertServerSettingsAsync(silentServed, token);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Empty(await ReadUntilClosedAsync(silentClosed, TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task StopAsync_ClientsBeingSniffedAndHttp2Open_CompletesPromptlyAndClientsClosed()
    {
        // Kestrel's default limits (130 s, 30 s) far exceed the wait below: only the host stop may close these clients.
        var (host, port, _) = await StartAsync(b => b.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30)));
        await using var _ = host;
        var token = TestHost.TimeoutToken();
        using var silent = await SocketIo.ConnectAsync(port, token);
        using var partial = await SocketIo.ConnectAsync(port, token);
        await SocketIo.SendAllAsync(partial, _preface.AsMemory(0, 8), token);
        using var http2 = await SocketIo.ConnectAsync(port, token);
        await SocketIo.SendAllAsync(http2, _preface, token);
        await SocketIo.SendAllAsync(http2, _emptySettings, token);
        await AssertServerSettingsAsync(http2, token);
        // Bounded wait until the host has picked up the silent and partial connections (one GET served proves the accept loop ran).
        using (var probe = new HttpClient { Timeout = TestHost.Timeout })
        {
            Assert.Equal("HTTP/1.1", await probe.GetStringAsync($"http://127.0.0.1:{port}/proto", token));
        }

        await host.StopAsync(token).WaitAsync(TimeSpan.FromSeconds(10), token);

        Assert.Empty(await ReadUntilClosedAsync(silent, TimeSpan.FromSeconds(5)));
        Assert.Empty(await ReadUntilClosedAsync(partial, TimeSpan.FromSeconds(5)));
        // The HTTP/2 connection was asked to go away (GOAWAY, frame type 7) by the host's graceful stop.
        var frames = await ReadUntilClosedAsync(http2, TimeSpan.FromSeconds(5));
        Assert.Contains((byte)7, FrameTypes(frames));
    }

    [Fact]
    public async Task Reload_AutoListenerMoved_Http2ClientToldToGoAwayAndSniffedClientClosed()
    {
        var (oldPort, newPort) = (FreePort.Get(), FreePort.Get());
        var root = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReverseProxy:Listeners:web:Address"] = $"tcp://127.0.0.1:{oldPort}",
            ["ReverseProxy:Listeners:web:Protocols"] = "Auto",
        }).Build();
        await using var host = await TunnelsTestHost.StartAsync(root.GetSection("ReverseProxy"), new InternalListenerRegistry(),
            app => app.MapGet("/proto", (HttpContext c) => c.Response.WriteAsync(c.Request.Protocol)));
        var token = TestHost.TimeoutToken();
        using var http2 = await SocketIo.ConnectAsync(oldPort, token);
        await SocketIo.SendAllAsync(http2, _preface, token);
        await SocketIo.SendAllAsync(http2, _emptySettings, token);
        await AssertServerSettingsAsync(http2, token);
        using var silent = await SocketIo.ConnectAsync(oldPort, token);
        using (var probe = new HttpClient { Timeout = TestHost.Timeout })
        {
            Assert.Equal("HTTP/1.1", await probe.GetStringAsync($"http://127.0.0.1:{oldPort}/proto", token));
        }

        // Kestrel stops the old endpoint and asks its connections to close, sniffed HTTP/2 ones included.
        root["ReverseProxy:Listeners:web:Address"] = $"tcp://127.0.0.1:{newPort}";
        root.Reload();

        Assert.Contains((byte)7, FrameTypes(await ReadUntilClosedAsync(http2, TimeSpan.FromSeconds(15))));
        Assert.Empty(await ReadUntilClosedAsync(silent, TimeSpan.FromSeconds(15)));
        await FreePort.WaitAsync(newPort);
    }

    [Fact]
    public async Task Auto_InternalListener_ServesHttp11AndHttp2ForwardedOverIt()
    {
        var port = FreePort.Get();
        var section = TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:front:Address"] = $"tcp://127.0.0.1:{port}",
            ["Listeners:inner:Address"] = "envoy-internal://inner",
            ["Listeners:inner:Protocols"] = "Auto",
            ["Routes:h1:ClusterId"] = "h1",
            ["Routes:h1:Match:Path"] = "/h1/{**rest}",
            ["Routes:h1:Match:Hosts:0"] = "127.0.0.1",
            ["Routes:h2:ClusterId"] = "h2",
            ["Routes:h2:Match:Path"] = "/h2/{**rest}",
            ["Routes:h2:Match:Hosts:0"] = "127.0.0.1",
            ["Clusters:h1:Destinations:d:Address"] = "envoy-internal://inner",
            ["Clusters:h1:HttpRequest:Version"] = "1.1",
            ["Clusters:h1:HttpRequest:VersionPolicy"] = "RequestVersionExact",
            ["Clusters:h2:Destinations:d:Address"] = "envoy-internal://inner",
            ["Clusters:h2:HttpRequest:Version"] = "2",
            ["Clusters:h2:HttpRequest:VersionPolicy"] = "RequestVersionExact",
        });
        // Requests forwarded to the internal listener carry Host: inner and are answered here.
        await using var host = await TunnelsTestHost.StartAsync(section, new InternalListenerRegistry(),
            app => app.MapGet("/{version}/proto", (HttpContext c) => c.Response.WriteAsync(c.Request.Protocol)).RequireHost("inner"));
        using var client = new HttpClient { Timeout = TestHost.Timeout };
        var token = TestHost.TimeoutToken();

        Assert.Equal("HTTP/1.1", await client.GetStringAsync($"http://127.0.0.1:{port}/h1/proto", token));
        Assert.Equal("HTTP/2", await client.GetStringAsync($"http://127.0.0.1:{port}/h2/proto", token));
    }

    /// <summary>The HTTP/2 frame types in <paramref name="frames"/> (after the server's SETTINGS already read).</summary>
    private static List<byte> FrameTypes(byte[] frames)
    {
        var types = new List<byte>();
        for (var offset = 0; offset + 9 <= frames.Length; offset += 9 + ((frames[offset] << 16) | (frames[offset + 1] << 8) | frames[offset + 2]))
        {
            types.Add(frames[offset + 3]);
        }
        return types;
    }

    [Fact]
    public async Task Auto_MaxConcurrentConnections1_EachAutoListenerCountsItsHttp2ConnectionOnce()
    {
        var ports = new[] { FreePort.Get(), FreePort.Get() };
        var section = TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:a1:Address"] = $"tcp://127.0.0.1:{ports[0]}",
            ["Listeners:a1:Protocols"] = "Auto",
            ["Listeners:a2:Address"] = $"tcp://127.0.0.1:{ports[1]}",
            ["Listeners:a2:Protocols"] = "Auto",
        });
        await using var host = await TestHost.StartAsync(b =>
        {
            b.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = 1);
            b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, new InternalListenerRegistry());
        }, app => app.MapReverseProxy());
        var token = TestHost.TimeoutToken();

        // Kestrel's limit is per endpoint: one HTTP/2 connection on each Auto listener fits.
        var clients = new List<Socket>();
        try
        {
            foreach (var port in ports)
            {
                var client = await SocketIo.ConnectAsync(port, token);
                clients.Add(client);
                await SocketIo.SendAllAsync(client, _preface, token);
                await SocketIo.SendAllAsync(client, _emptySettings, token);
                await AssertServerSettingsAsync(client, token);
            }

            // It is still counted: a second connection to a full listener is refused.
            using var refused = await SocketIo.ConnectAsync(ports[0], token);
            await SocketIo.SendAllAsync(refused, _preface, token);
            Assert.Empty(await ReadUntilClosedAsync(refused, TimeSpan.FromSeconds(15)));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>A fake clock that also tells when a timer with a given due time has been created.</summary>
    private sealed class TimerSignallingTimeProvider : FakeTimeProvider
    {
        private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            _created.Writer.TryWrite(dueTime);
            return timer;
        }

        public async Task WaitForTimerAsync(TimeSpan dueTime, CancellationToken token)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(token);
            bounded.CancelAfter(TimeSpan.FromSeconds(15));
            while (await _created.Reader.ReadAsync(bounded.Token) != dueTime)
            {
            }
        }
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
        var addresses = new[] { "auto", "h1" }.Select(name => $"http://127.0.0.1:{host.ListenerPort(name)}").ToList();
        Assert.Equal(2, addresses.Distinct().Count());

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

        // A connection accepted while Kestrel binds the new endpoint waits for it: on a loaded machine that takes seconds,
        // so each attempt is short and the whole wait is the suite's timeout.
        var deadline = DateTime.UtcNow + TestHost.Timeout;
        ToolResult after;
        do
        {
            await Task.Delay(100);
            after = await ToolProcess.RunAsync(curl, ["-sS", "--max-time", "5", "--http2-prior-knowledge", url]);
        }
        while (after.StdoutText != "HTTP/2" && DateTime.UtcNow < deadline);
        Assert.Equal("HTTP/2", after.StdoutText);
        var http1 = await ToolProcess.RunAsync(curl, ["-sS", url]);
        Assert.Equal("HTTP/1.1", http1.StdoutText);
    }
}
