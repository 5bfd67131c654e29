using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Connect;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Connect;

/// <summary>
/// One CONNECT gateway and its targets for the CONNECT tests: a raw TCP echo, an HTTP and an HTTPS backend, recording
/// targets for the PROXY protocol headers, a refusing port and a port whose connects hang (its backlog is full).
/// </summary>
public sealed class ConnectFixture : IAsyncLifetime
{
    public const string User = "alice";
    public const string Password = "s3cret";

    private readonly List<Socket> _hanging = [];
    private Socket _refusing = null!;
    private Socket _full = null!;

    internal X509Certificate2 Certificate { get; } = TestCertificates.CreateSelfSigned();

    internal TcpEchoServer Echo { get; private set; } = null!;

    /// <summary>Records the first bytes of each connection (the PROXY header) and then echoes.</summary>
    internal RecordingServer ProxyProtocolTarget { get; private set; } = null!;

    internal WebApplication Backend { get; private set; } = null!;

    internal WebApplication TlsBackend { get; private set; } = null!;

    internal ConnectGateway Gateway { get; private set; } = null!;

    public int RefusingPort => ((IPEndPoint)_refusing.LocalEndPoint!).Port;

    public int HangingPort => ((IPEndPoint)_full.LocalEndPoint!).Port;

    public int BackendPort => TestHost.Address(Backend).Port;

    public int TlsBackendPort => TestHost.Address(TlsBackend).Port;

    public async Task InitializeAsync()
    {
        Echo = TcpEchoServer.Start();
        ProxyProtocolTarget = RecordingServer.Start();
        _refusing = FreePort.BindRefusing();
        _full = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _full.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _full.Listen(0);
        // Fill the accept queue (never accepted): further SYNs are dropped, so connects to this port hang.
        for (var i = 0; i < 4; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _hanging.Add(socket);
            _ = socket.ConnectAsync(IPAddress.Loopback, HangingPort).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
        Backend = await TestHost.StartAsync(b => b.ListenLoopback(), app => app.MapGet("/", (HttpContext c) => $"backend {c.Request.Protocol}"));
        TlsBackend = await TestHost.StartAsync(b => b.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(Certificate))),
            app => app.MapGet("/", () => Results.Content("<html><head><title>Through the tunnel</title></head><body>tls backend</body></html>", "text/html")));

        var echo = Echo.Port;
        Gateway = await ConnectGateway.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            // Original destination, loopback endpoints named exactly (plus 443 anywhere public).
            ["Routes:loop:ClusterId"] = "original",
            ["Routes:loop:Match:Hosts:0"] = "127.0.0.1",
            ["Routes:loop:Connect:AllowPost"] = "true",
            ["Routes:loop:Connect:ConnectTimeout"] = "00:00:01",
            ["Routes:loop:Connect:Policy:AllowedHosts:0"] = $"127.0.0.1:{echo}",
            ["Routes:loop:Connect:Policy:AllowedHosts:1"] = $"127.0.0.1:{BackendPort}",
            ["Routes:loop:Connect:Policy:AllowedHosts:2"] = $"127.0.0.1:{TlsBackendPort}",
            ["Routes:loop:Connect:Policy:AllowedHosts:3"] = $"127.0.0.1:{RefusingPort}",
            ["Routes:loop:Connect:Policy:AllowedHosts:4"] = $"127.0.0.1:{HangingPort}",
            ["Routes:loop:Connect:Policy:AllowedHosts:5"] = "*",
            // Original destination with the secure defaults: port 443 only, no loopback or private targets.
            ["Routes:strict:ClusterId"] = "original",
            ["Routes:strict:Match:Hosts:0"] = "localhost",
            ["Routes:strict:Match:Hosts:1"] = "*.invalid",
            ["Routes:strict:Match:Hosts:2"] = "strict.test",
            ["Routes:strict:Connect:Policy:AllowLoopback"] = "false",
            // A configured destination: trusted, whatever the authority says.
            ["Routes:fixed:ClusterId"] = "echo",
            ["Routes:fixed:Match:Hosts:0"] = "fixed.test",
            ["Routes:fixed:Connect:Enabled"] = "true",
            ["Routes:off:ClusterId"] = "echo",
            ["Routes:off:Match:Hosts:0"] = "off.test",
            ["Routes:off:Connect:Enabled"] = "false",
            ["Routes:pp1:ClusterId"] = "recording",
            ["Routes:pp1:Match:Hosts:0"] = "pp1.test",
            ["Routes:pp1:Connect:ProxyProtocol"] = "v1",
            ["Routes:pp2:ClusterId"] = "recording",
            ["Routes:pp2:Match:Hosts:0"] = "pp2.test",
            ["Routes:pp2:Connect:ProxyProtocol"] = "v2",
            ["Routes:auth:ClusterId"] = "echo",
            ["Routes:auth:Match:Hosts:0"] = "auth.test",
            ["Routes:auth:Connect:Policy:AuthorizationPolicy"] = "proxy-users",
            ["Routes:tls:ClusterId"] = "tls-backend",
            ["Routes:tls:Match:Hosts:0"] = "tls.test",
            ["Routes:tls:Connect:TlsOrigination:ServerName"] = "localhost",
            ["Routes:tls:Connect:TlsOrigination:ValidateCertificate"] = "false",
            ["Routes:tls-strict:ClusterId"] = "tls-backend",
            ["Routes:tls-strict:Match:Hosts:0"] = "tls-strict.test",
            ["Routes:tls-strict:Connect:TlsOrigination:ServerName"] = "localhost",
            ["Clusters:original:Metadata:Connect.OriginalDestination"] = "true",
            ["Clusters:echo:Destinations:d1:Address"] = Echo.Address,
            ["Clusters:recording:Destinations:d1:Address"] = ProxyProtocolTarget.Address,
            ["Clusters:tls-backend:Destinations:d1:Address"] = $"tcp://127.0.0.1:{TlsBackendPort}",
        }), Certificate, services =>
        {
            services.AddAuthentication().AddProxyBasic(o => o.ValidateCredentials = (user, password, _) => ValueTask.FromResult(user == User && password == Password));
            services.AddAuthorization(o => o.AddPolicy("proxy-users", p => p.AddAuthenticationSchemes(ProxyBasicDefaults.AuthenticationScheme).RequireAuthenticatedUser()));
        });
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Backend.DisposeAsync();
        await TlsBackend.DisposeAsync();
        await Echo.DisposeAsync();
        await ProxyProtocolTarget.DisposeAsync();
        _refusing.Dispose();
        foreach (var socket in _hanging)
        {
            socket.Dispose();
        }
        _full.Dispose();
        Certificate.Dispose();
    }
}
