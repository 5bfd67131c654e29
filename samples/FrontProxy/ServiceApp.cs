using System.Net;
using Yarp.Tunnels.InternalListeners;

namespace FrontProxy;

/// <summary>A service replica: the sandbox's aiohttp app, saying hello with its replica name over HTTP/1.1.</summary>
internal static class ServiceApp
{
    public static WebApplication Build(IConfiguration root, int service, string replica, string listen)
    {
        var builder = SubHost.CreateBuilder(root, []);
        builder.WebHost.UseInternalListeners();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (Addresses.TryInternal(listen, out var name))
            {
                kestrel.ListenInternal(name, o => o.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1);
            }
            else
            {
                kestrel.Listen(Addresses.ParseEndPoint(listen, "--listen"));
            }
        });
        var app = builder.Build();
        app.MapGet($"/service/{service}", (HttpContext context) =>
            $"Hello from behind Yarp.Tunnels (service {service})! hostname: {replica} resolvedhostname: {ResolvedAddress(context)}\n");
        return app;
    }

    /// <summary>The address the replica was reached at: its internal listener, or the local IP of the socket.</summary>
    private static string ResolvedAddress(HttpContext context) =>
        context.Features.Get<IInternalConnectionFeature>() is { } internalConnection
            ? "envoy-internal://" + internalConnection.ListenerName
            : context.Connection.LocalIpAddress?.ToString() ?? IPAddress.None.ToString();
}
