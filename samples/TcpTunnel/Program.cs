// Envoy's TCP tunnelling example (seed 004) on the same ports: L1 on 127.0.0.1:10000 and 127.0.0.1:10002 carries
// raw TCP inside HTTP tunnels to the proxy on 127.0.0.1:10001 (L2), which terminates them (HTTP/1.1 CONNECT, HTTP/2
// CONNECT and HTTP/2 POST on one Auto port). Switches (environment):
//   TUNNEL_MODE = h1-connect | h2-connect (default) | h2-post   (Envoy's encapsulate_in_http1_connect / _http2_connect / _http2_post)
//   TUNNEL_ROLE = l1 | l2 | both (default: both halves in one process)
// Nothing is started on 10003: like the Envoy configs, the tunnels reach whatever listens there.
using TcpTunnel;

var mode = Environment.GetEnvironmentVariable("TUNNEL_MODE") is { Length: > 0 } m ? m : "h2-connect";
var role = Environment.GetEnvironmentVariable("TUNNEL_ROLE") is { Length: > 0 } r ? r : "both";
if (mode is not ("h1-connect" or "h2-connect" or "h2-post"))
{
    Console.Error.WriteLine($"TUNNEL_MODE '{mode}' is not one of h1-connect, h2-connect, h2-post.");
    return 2;
}
if (role is not ("l1" or "l2" or "both"))
{
    Console.Error.WriteLine($"TUNNEL_ROLE '{role}' is not one of l1, l2, both.");
    return 2;
}

var builder = WebApplication.CreateBuilder(args);
if (role is "l1" or "both")
{
    L1.Configure(builder.Configuration, mode);
}
if (role is "l2" or "both")
{
    L2.Configure(builder.Configuration);
}
var proxySection = builder.Configuration.GetSection("ReverseProxy");
builder.Services.AddReverseProxy()
    .LoadFromConfig(proxySection)
    .AddTunnels(proxySection);

var app = builder.Build();
app.MapTunnelsReverseProxy();
app.Run();
return 0;
