// The seed examples of Envoy's internal listener docs, on the same ports:
//   TCP 127.0.0.1:9999  -> internal listener "encap"                    -> TCP proxy -> 127.0.0.1:10000
//   TCP 127.0.0.1:19000 -> cluster bridge_internal_listener -> internal listener "singleton_internal_encap" -> 127.0.0.1:19001
// Nothing is started on 10000 or 19001: like the seed configs, the chain forwards to whatever listens there.
var builder = WebApplication.CreateBuilder(args);
var proxySection = builder.Configuration.GetSection("ReverseProxy");
builder.Services.AddReverseProxy()
    .LoadFromConfig(proxySection)
    .AddTunnels(proxySection);

var app = builder.Build();
app.MapReverseProxy();
app.Run();
