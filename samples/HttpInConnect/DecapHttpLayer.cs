/// <summary>
/// The decapsulating half's second HTTP layer (seed 001's <c>terminate_http_in_http2_connect</c>): a host of its own in
/// this process whose only listener is the internal listener <c>decap</c> (<c>Protocols: Auto</c>: HTTP/1.1 or HTTP/2
/// inside the tunnel), answering every request with <c>Hello, world!</c>. Its own host, like Envoy's second HTTP
/// connection manager, so its catch-all never competes with the first layer's routes.
/// </summary>
internal static class DecapHttpLayer
{
    public static async Task<WebApplication> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReverseProxy:Listeners:decap:Address"] = "envoy-internal://decap",
            ["ReverseProxy:Listeners:decap:Protocols"] = "Auto",
            ["ReverseProxy:Listeners:decap:StatPrefix"] = "ingress_http",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        var section = builder.Configuration.GetSection("ReverseProxy");
        builder.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section);
        var app = builder.Build();
        app.Map("/{**any}", () => "Hello, world!\n");
        await app.StartAsync();
        return app;
    }
}
