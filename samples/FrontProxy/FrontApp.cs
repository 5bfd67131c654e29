using Yarp.Tunnels.Samples;

namespace FrontProxy;

/// <summary>The front gateway, the sandbox's front Envoy: the root configuration's <c>ReverseProxy</c> section.</summary>
internal static class FrontApp
{
    public const string HttpsListener = "front_https";

    public static WebApplication Build(WebApplicationBuilder builder, Role role)
    {
        if (builder.Configuration[$"ReverseProxy:Listeners:{HttpsListener}:Address"] is not null)
        {
            SampleCertificate.UseUnlessConfigured(builder.Configuration, $"ReverseProxy:Listeners:{HttpsListener}:Certificate", "FrontProxy", "front-proxy");
        }
        var section = builder.Configuration.GetSection("ReverseProxy");
        var proxy = builder.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section);
        if (role == Role.Front)
        {
            // Sidecars named by host (compose services, Kubernetes headless services): one destination per address,
            // re-resolved, so scaling them changes the cluster's membership as in the sandbox.
            HostNameDestinationResolver.Add(proxy, dns => dns.RefreshPeriod = TimeSpan.FromSeconds(5));
        }
        SampleTelemetry.Add(builder, "front-proxy", traces: true);
        var app = builder.Build();
        app.MapTunnelsReverseProxy();
        return app;
    }
}
