// Envoy's "encapsulate HTTP GET in HTTP CONNECT" example (seed 001) on the same ports: HTTP on 127.0.0.1:10000 is
// forwarded, for every route, to internal listener "encap", whose TCP proxy carries the HTTP/1.1 connection inside a
// classic HTTP/2 CONNECT (host.com:443) to 127.0.0.1:10001, where the decapsulating half serves it.
// Switch (environment): HTTPINCONNECT_ROLE = encap | decap | both   (default: the half this build has, encap)
using HttpInConnect;

var role = Environment.GetEnvironmentVariable("HTTPINCONNECT_ROLE") is { Length: > 0 } r ? r : "encap";
if (role is not ("encap" or "decap" or "both"))
{
    Console.Error.WriteLine($"HTTPINCONNECT_ROLE '{role}' is not one of encap, decap, both.");
    return 2;
}
if (role is "decap" or "both")
{
    Console.Error.WriteLine($"HTTPINCONNECT_ROLE '{role}': the decapsulating half (10001) is not in this build yet; use HTTPINCONNECT_ROLE=encap (see README.md).");
    return 2;
}

var builder = WebApplication.CreateBuilder(args);
Encap.Configure(builder.Configuration);
var proxySection = builder.Configuration.GetSection("ReverseProxy");
builder.Services.AddReverseProxy()
    .LoadFromConfig(proxySection)
    .AddTunnels(proxySection);

var app = builder.Build();
app.MapReverseProxy();
app.Run();
return 0;
