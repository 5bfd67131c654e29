// The WebSocket sample (Envoy's HTTP upgrades doc, seed 004), one process:
//   gateway  127.0.0.1:18080  HTTP/1.1 + h2c (Protocols Auto)      \  routes: /          this page
//            127.0.0.1:18443  HTTPS, ALPN h2 + http/1.1            /          /ws/echo   -> envoy-internal://ws-echo  (HTTP/2: RFC 8441)
//                                                                             /upgrade/foo -> envoy-internal://foo-echo (HTTP/1.1, token foo)
//   backends on internal listeners (no sockets): ws-echo (WebSocket echo, h2c) and foo-echo (101 + raw byte echo).
// The HTTPS certificate is self-signed, generated on first run and kept in the user's application data folder.
using Microsoft.AspNetCore.Http.Features;
using WebSocketSample;
using Yarp.Tunnels.Samples;

var builder = WebApplication.CreateBuilder(args);
var generatedCertificate = SampleCertificate.UseUnlessConfigured(builder.Configuration, "ReverseProxy:Listeners:gateway_https:Certificate", "WebSocket", "localhost");

var proxySection = builder.Configuration.GetSection("ReverseProxy");
builder.Services.AddReverseProxy()
    .LoadFromConfig(proxySection)
    .AddTransformFactory<DownstreamProtocolTransformFactory>()
    .AddTunnels(proxySection);

var app = builder.Build();
if (generatedCertificate is not null)
{
    app.Logger.LogInformation("HTTPS uses the self-signed certificate {Path} (generated on first run).", generatedCertificate);
}

// The backends answer on their own internal listeners only, never on the gateway's sockets.
app.MapWhen(context => BackendListener.Is(context, EchoBackend.ListenerName), backend =>
{
    backend.UseWebSockets();
    backend.Run(EchoBackend.HandleAsync);
});
app.MapWhen(context => BackendListener.Is(context, FooBackend.ListenerName), backend => backend.Run(FooBackend.HandleAsync));

app.UseRouting();
app.MapGet("/", EchoPage.Serve);
app.MapTunnelsReverseProxy(); // YARP's MapReverseProxy plus the upgrade policy (403) and the forwarder for any token
app.Run();
