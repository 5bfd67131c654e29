namespace FrontProxy;

/// <summary>
/// A sidecar gateway, the sandbox's service Envoy: the <c>Sidecar:ReverseProxy</c> template with one HTTP listener
/// (<c>ingress</c>) on <paramref name="listen"/> and the <c>local_service</c> cluster pointing at its replica(s).
/// </summary>
internal static class SidecarApp
{
    public const string Listener = "ingress";

    /// <param name="protocols">The ingress listener's <c>Protocols</c>: the front speaks h2c; <c>Auto</c> also takes HTTP/1.1 (curl, other fronts).</param>
    public static WebApplication Build(IConfiguration root, string replica, string listen, string upstream, string? admin, string protocols, bool mainHost)
    {
        var values = SampleConfiguration.Relative(root.GetSection("Sidecar")).ToList();
        values.Add(new($"ReverseProxy:Listeners:{Listener}:Address", Addresses.ListenerAddress(listen)));
        values.Add(new($"ReverseProxy:Listeners:{Listener}:Protocols", protocols));
        // Usually its one co-located replica; a comma-separated --upstream puts several behind it (round robin).
        var upstreams = upstream.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (var i = 0; i < upstreams.Length; i++)
        {
            var id = upstreams.Length == 1 ? replica : $"{replica}-upstream{i + 1}";
            values.Add(new($"ReverseProxy:Clusters:local_service:Destinations:{id}:Address", Addresses.Destination(upstreams[i], "--upstream")));
        }

        if (!string.IsNullOrEmpty(admin))
        {
            values.Add(new("ReverseProxy:Admin:Address", admin));
        }

        var builder = SubHost.CreateBuilder(root, values);
        var section = builder.Configuration.GetSection("ReverseProxy");
        builder.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section);
        SampleTelemetry.Add(builder, "sidecar-" + replica, traces: mainHost);
        var app = builder.Build();
        app.MapTunnelsReverseProxy();
        return app;
    }
}
