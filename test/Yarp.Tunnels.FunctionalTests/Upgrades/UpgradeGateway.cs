using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Upgrades;

namespace Yarp.Tunnels.FunctionalTests.Upgrades;

/// <summary>A gateway host using <c>MapTunnelsReverseProxy</c>, serving HTTP/1.1 and HTTP/2 (prior knowledge) on two loopback ports.</summary>
internal sealed class UpgradeGateway : IAsyncDisposable
{
    /// <summary>The header a test's proxy step sets when it answers an upgrade the policy let through.</summary>
    public const string AllowedHeader = "x-upgrade-allowed";

    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromSeconds(15) };

    private UpgradeGateway(WebApplication app, int http1Port, int http2Port)
    {
        App = app;
        Http1Port = http1Port;
        Http2Port = http2Port;
    }

    public WebApplication App { get; }

    public int Http1Port { get; }

    public int Http2Port { get; }

    public static async Task<UpgradeGateway> StartAsync(IConfigurationSection section, Action<IReverseProxyBuilder>? services = null,
        Action<IReverseProxyApplicationBuilder>? steps = null)
    {
        var http2Port = FreePort.Get();
        var app = await TestHost.StartAsync(b =>
        {
            b.WebHost.ConfigureKestrel(k =>
            {
                k.Listen(IPAddress.Loopback, 0);
                k.Listen(IPAddress.Loopback, http2Port, o => o.Protocols = HttpProtocols.Http2);
            });
            var proxy = b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, new InternalListenerRegistry());
            services?.Invoke(proxy);
        }, app =>
        {
            if (steps is null)
            {
                app.MapTunnelsReverseProxy();
            }
            else
            {
                app.MapTunnelsReverseProxy(steps);
            }
        });
        var http1Port = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a).Port).Single(p => p != http2Port);
        return new UpgradeGateway(app, http1Port, http2Port);
    }

    /// <summary>A proxy step that answers 200 (naming the upgrade in <see cref="AllowedHeader"/>) for every upgrade but WebSockets, which go on.</summary>
    public static void AnswerAllowedUpgrades(IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(async (context, next) =>
        {
            if (context.Features.Get<IUpgradeRequestFeature>() is { } upgrade && upgrade.UpgradeType != "websocket")
            {
                context.Response.Headers[AllowedHeader] = $"{upgrade.UpgradeType}|{upgrade.Kind}";
                await context.Response.WriteAsync("allowed");
                return;
            }
            await next(context);
        });
        UpgradePipeline.DefaultSteps(proxy);
    }

    public long Stat(string flatName) => App.Stats().GetValueOrDefault(flatName);

    /// <summary>Sends <paramref name="request"/> in one write on a fresh HTTP/1.1 connection and reads until the gateway closes it.</summary>
    public async Task<string> SendRawAsync(string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(IPAddress.Loopback, Http1Port, cts.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), cts.Token);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, cts.Token)) > 0)
        {
            received.Write(buffer, 0, read);
        }
        return Encoding.ASCII.GetString(received.ToArray());
    }

    /// <summary>An HTTP/2 extended CONNECT (RFC 8441) with <c>:protocol</c> <paramref name="protocol"/> to <paramref name="path"/>.</summary>
    public async Task<HttpResponseMessage> ExtendedConnectAsync(string path, string protocol)
    {
        var request = new HttpRequestMessage(HttpMethod.Connect, $"http://127.0.0.1:{Http2Port}{path}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Protocol = protocol;
        return await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
