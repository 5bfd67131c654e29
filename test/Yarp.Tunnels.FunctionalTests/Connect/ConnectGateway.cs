using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Connect;

/// <summary>
/// A CONNECT gateway on loopback: HTTP/1.1 (<c>UseTunnelsConnect</c>), HTTP/2 prior knowledge, and HTTPS (HTTP/1.1 and
/// HTTP/2 by ALPN) ports, mapped with <c>MapTunnelsReverseProxy</c>.
/// </summary>
internal sealed class ConnectGateway : IAsyncDisposable
{
    /// <summary>Short, so the malformed-CONNECT tests see Kestrel's 408 quickly.</summary>
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(3);

    private ConnectGateway(WebApplication app, int http1Port, int http2Port, int tlsPort)
    {
        App = app;
        Http1Port = http1Port;
        Http2Port = http2Port;
        TlsPort = tlsPort;
    }

    public WebApplication App { get; }

    public int Http1Port { get; }

    public int Http2Port { get; }

    public int TlsPort { get; }

    public static async Task<ConnectGateway> StartAsync(IConfigurationSection section, X509Certificate2 certificate, Action<IServiceCollection>? services = null)
    {
        var http2Port = FreePort.Get();
        var tlsPort = FreePort.Get();
        var app = await TestHost.StartAsync(b =>
        {
            b.WebHost.ConfigureKestrel(k =>
            {
                k.Limits.RequestHeadersTimeout = RequestHeadersTimeout;
                k.Listen(IPAddress.Loopback, 0, o => o.UseTunnelsConnect());
                k.Listen(IPAddress.Loopback, http2Port, o => o.Protocols = HttpProtocols.Http2);
                k.Listen(IPAddress.Loopback, tlsPort, o =>
                {
                    o.Protocols = HttpProtocols.Http1AndHttp2;
                    o.UseHttps(certificate);
                    o.UseTunnelsConnect();
                });
            });
            services?.Invoke(b.Services);
            b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, new InternalListenerRegistry());
        }, app => app.MapTunnelsReverseProxy());
        var http1Port = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a).Port).Single(p => p != http2Port && p != tlsPort);
        return new ConnectGateway(app, http1Port, http2Port, tlsPort);
    }

    public long Stat(string flatName) => App.Stats().GetValueOrDefault(flatName);

    /// <summary>Opens a connection, sends <paramref name="head"/> (and <paramref name="pipelined"/> in the same write) and reads the response head.</summary>
    public async Task<(Socket Socket, string Head, byte[] Extra)> SendConnectAsync(string head, byte[]? pipelined = null, CancellationToken cancellationToken = default)
    {
        var socket = await SocketIo.ConnectAsync(Http1Port, cancellationToken);
        try
        {
            var bytes = Encoding.ASCII.GetBytes(head).Concat(pipelined ?? []).ToArray();
            await SocketIo.SendAllAsync(socket, bytes, cancellationToken);
            var (responseHead, extra) = await ReadHeadAsync(socket, cancellationToken);
            return (socket, responseHead, extra);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Reads up to the end of a response head; returns it and the bytes read after it.</summary>
    public static async Task<(string Head, byte[] Extra)> ReadHeadAsync(Socket socket, CancellationToken cancellationToken)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            var end = IndexOf(received, "\r\n\r\n"u8);
            if (end >= 0)
            {
                return (Encoding.ASCII.GetString(received.GetRange(0, end + 4).ToArray()), received.Skip(end + 4).ToArray());
            }
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                return (Encoding.ASCII.GetString(received.ToArray()), []);
            }
            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }

    private static int IndexOf(List<byte> haystack, ReadOnlySpan<byte> needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Count; i++)
        {
            var match = true;
            for (var j = 0; j < needle.Length && match; j++)
            {
                match = haystack[i + j] == needle[j];
            }
            if (match)
            {
                return i;
            }
        }
        return -1;
    }

    public static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
