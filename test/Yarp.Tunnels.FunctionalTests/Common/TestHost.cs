using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>Starts real Kestrel hosts for tests, bounded in time.</summary>
internal static class TestHost
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static CancellationToken TimeoutToken() => new CancellationTokenSource(Timeout).Token;

    public static async Task<WebApplication> StartAsync(Action<WebApplicationBuilder> configure, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Test" });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (Environment.GetEnvironmentVariable("TEST_LOG") is { Length: > 0 } level)
        {
            builder.Logging.AddSimpleConsole();
            builder.Logging.SetMinimumLevel(Enum.Parse<LogLevel>(level));
        }
        configure(builder);
        var app = builder.Build();
        map(app);
        await app.StartAsync(TimeoutToken());
        return app;
    }

    /// <summary>The first socket address the host listens on (port 0 resolved).</summary>
    public static Uri Address(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First(a => a.StartsWith("http", StringComparison.Ordinal)).Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
    }

    public static void ListenLoopback(this WebApplicationBuilder builder) =>
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
}
