using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Benchmarks.E2e;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Benchmarks.WebSocket;

/// <summary>The in-process hosts of the WebSocket run: an echo backend (HTTP/1.1 and h2c ports) and the gateway in front of it.</summary>
internal static class WebSocketHosts
{
    public sealed record Backend(WebApplication App, int Http1Port, int Http2Port);

    /// <summary>A Kestrel WebSocket echo at <c>/ws</c> (each frame sent back as received), on an HTTP/1.1 and an HTTP/2 port.</summary>
    public static async Task<Backend> StartBackendAsync()
    {
        var (http1, http2) = (Hosts.FreePort(), Hosts.FreePort());
        var app = await Hosts.StartAsync(builder => builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, http1, o => o.Protocols = HttpProtocols.Http1);
            k.Listen(IPAddress.Loopback, http2, o => o.Protocols = HttpProtocols.Http2);
        }), app =>
        {
            app.UseWebSockets();
            app.Map("/ws", EchoAsync);
        });
        return new Backend(app, http1, http2);
    }

    /// <summary>
    /// The gateway as an app configures it (<c>ReverseProxy</c> section, <c>MapTunnelsReverseProxy</c>): one
    /// <c>Protocols: Auto</c> listener (HTTP/1.1 and h2c, like the WebSocket sample's 18080); <c>/h1/ws</c> goes to the
    /// backend over HTTP/1.1, <c>/h2/ws</c> over HTTP/2 (RFC 8441); and a TCP proxy listener on <paramref name="tcpPort"/>
    /// relaying raw bytes to the backend's HTTP/1.1 port (the relay without any HTTP, for reference).
    /// </summary>
    public static async Task<WebApplication> StartGatewayAsync(int port, int tcpPort, int backendHttp1Port, int backendHttp2Port)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Listeners:front:Address"] = $"tcp://127.0.0.1:{port}",
            ["ReverseProxy:Listeners:front:Protocols"] = "Auto",
            ["ReverseProxy:Routes:h1:ClusterId"] = "h1",
            ["ReverseProxy:Routes:h1:Match:Path"] = "/h1/ws",
            ["ReverseProxy:Routes:h1:Transforms:0:PathRemovePrefix"] = "/h1",
            ["ReverseProxy:Routes:h2:ClusterId"] = "h2",
            ["ReverseProxy:Routes:h2:Match:Path"] = "/h2/ws",
            ["ReverseProxy:Routes:h2:Transforms:0:PathRemovePrefix"] = "/h2",
            ["ReverseProxy:Clusters:h1:HttpRequest:Version"] = "1.1",
            ["ReverseProxy:Clusters:h1:HttpRequest:VersionPolicy"] = "RequestVersionExact",
            ["ReverseProxy:Clusters:h1:Destinations:d1:Address"] = $"http://127.0.0.1:{backendHttp1Port}",
            ["ReverseProxy:Clusters:h2:HttpRequest:Version"] = "2",
            ["ReverseProxy:Clusters:h2:HttpRequest:VersionPolicy"] = "RequestVersionExact",
            ["ReverseProxy:Clusters:h2:Destinations:d1:Address"] = $"http://127.0.0.1:{backendHttp2Port}",
            ["ReverseProxy:Listeners:tcp:Address"] = $"tcp://127.0.0.1:{tcpPort}",
            ["ReverseProxy:Listeners:tcp:TcpProxy:ClusterId"] = "tcp",
            ["ReverseProxy:Clusters:tcp:Destinations:d1:Address"] = $"tcp://127.0.0.1:{backendHttp1Port}",
        };
        var app = await Hosts.StartAsync(builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            var section = builder.Configuration.GetSection("ReverseProxy");
            builder.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, new InternalListenerRegistry());
        }, app => app.MapTunnelsReverseProxy());
        return app;
    }

    /// <summary>
    /// YARP 2.3 alone (<c>MapReverseProxy</c>, no Yarp.Tunnels), on <paramref name="port"/>: <c>/ws</c> to the backend over
    /// HTTP/1.1 through YARP's own forwarder (SocketsHttpHandler and its stream copier), the path WebSockets took
    /// through the gateway before it relayed them itself.
    /// </summary>
    public static Task<WebApplication> StartYarpAsync(int port, int backendHttp1Port)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:ws:ClusterId"] = "h1",
            ["ReverseProxy:Routes:ws:Match:Path"] = "/ws",
            ["ReverseProxy:Clusters:h1:HttpRequest:Version"] = "1.1",
            ["ReverseProxy:Clusters:h1:HttpRequest:VersionPolicy"] = "RequestVersionExact",
            ["ReverseProxy:Clusters:h1:Destinations:d1:Address"] = $"http://127.0.0.1:{backendHttp1Port}",
        };
        return Hosts.StartAsync(builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http1));
        }, app => app.MapReverseProxy());
    }

    private static async Task EchoAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                    return;
                }
                await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, context.RequestAborted);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client went away without a close handshake.
        }
    }
}
