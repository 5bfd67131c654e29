// Envoy's TCP tunnelling example (seed 004) on the same ports: L1 on 127.0.0.1:10000 and 127.0.0.1:10002 carries
// raw TCP inside HTTP tunnels to the proxy on 127.0.0.1:10001 (L2). Switches (environment):
//   TUNNEL_MODE = h1-connect | h2-connect (default) | h2-post   (Envoy's encapsulate_in_http1_connect / _http2_connect / _http2_post)
//   TUNNEL_ROLE = l1 | l2 | both   (default: the half this build has, l1)
// Nothing is started on 10003: like the Envoy configs, the tunnels reach whatever listens there.
using TcpTunnel;

var mode = Environment.GetEnvironmentVariable("TUNNEL_MODE") is { Length: > 0 } m ? m : "h2-connect";
var role = Environment.GetEnvironmentVariable("TUNNEL_ROLE") is { Length: > 0 } r ? r : "l1";
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
if (role is "l2" or "both")
{
    Console.Error.WriteLine($"TUNNEL_ROLE '{role}': the L2 half (CONNECT termination on 10001) is not in this build yet; use TUNNEL_ROLE=l1 with an independent proxy on 10001 (see README.md).");
    return 2;
}

var builder = WebApplication.CreateBuilder(args);
L1.Configure(builder.Configuration, mode);
var proxySection = builder.Configuration.GetSection("ReverseProxy");
builder.Services.AddReverseProxy()
    .LoadFromConfig(proxySection)
    .AddTunnels(proxySection);

var app = builder.Build();
app.MapReverseProxy();
app.Run();
return 0;
