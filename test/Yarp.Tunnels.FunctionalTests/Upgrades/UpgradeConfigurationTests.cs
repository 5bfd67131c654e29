using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Upgrades;

/// <summary>Upgrade settings: validated with the listeners at startup, applied live on reload, invalid reloads ignored.</summary>
public sealed class UpgradeConfigurationTests
{
    private static string Upgrade(string path, string token) =>
        $"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: {token}\r\n\r\n";

    [Fact]
    public async Task Startup_InvalidUpgradesAndListeners_OneExceptionListsEveryError()
    {
        var section = TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:bad:Address"] = "udp://1.2.3.4:5",
            ["Upgrades:0:UpgradeType"] = "foo",
            ["Upgrades:0:Chain"] = "nowhere",
            ["Upgrades:1:UpgradeType"] = "web socket",
            ["Routes:r:ClusterId"] = "c",
            ["Routes:r:Match:Path"] = "/{**rest}",
            ["Routes:r:Upgrades:0:UpgradeType"] = "CONNECT",
            ["Routes:r:UpgradeIdleTimeout"] = "00:00:00",
            ["Clusters:c:Destinations:d:Address"] = "http://127.0.0.1:1",
        });

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync(
            b => b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, new InternalListenerRegistry()),
            app => app.MapTunnelsReverseProxy()));

        var message = ex.ToString(); // YARP wraps it when its cluster validation is what first loads the settings
        Assert.Contains("The Yarp.Tunnels configuration is invalid:", message, StringComparison.Ordinal);
        Assert.Contains("Listener 'bad': Address 'udp://1.2.3.4:5' is malformed", message, StringComparison.Ordinal);
        Assert.Contains("Upgrades[0]: Chain 'nowhere' is not registered", message, StringComparison.Ordinal);
        Assert.Contains("Upgrades[1]: UpgradeType 'web socket' is not a valid upgrade token", message, StringComparison.Ordinal);
        Assert.Contains("Route 'r': Upgrades[0]: CONNECT is switched per route by the route's Connect block", message, StringComparison.Ordinal);
        Assert.Contains("Route 'r': UpgradeIdleTimeout must be positive.", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_JsonFileChanged_DecisionChangesLive()
    {
        await using var backend = await TestHost.StartAsync(b => b.ListenLoopback(), BackendApp.Map);
        var dir = Directory.CreateTempSubdirectory("yarp-tunnels-upgrades");
        var path = Path.Combine(dir.FullName, "proxy.json");
        string Json(bool enabled) => $$"""
            { "ReverseProxy": {
                "Upgrades": [ { "UpgradeType": "foo", "Enabled": {{(enabled ? "true" : "false")}} } ],
                "Routes": { "r": { "ClusterId": "backend", "Match": { "Path": "/{**rest}" } } },
                "Clusters": { "backend": { "Destinations": { "d": { "Address": "{{TestHost.Address(backend)}}" } } } } } }
            """;
        try
        {
            await File.WriteAllTextAsync(path, Json(enabled: true));
            var config = new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: true).Build();
            await using var gateway = await UpgradeGateway.StartAsync(config.GetSection("ReverseProxy"), steps: UpgradeGateway.AnswerAllowedUpgrades);
            Assert.StartsWith("HTTP/1.1 200", await gateway.SendRawAsync(Upgrade("/x", "foo")), StringComparison.Ordinal);

            await File.WriteAllTextAsync(path, Json(enabled: false));

            var deadline = DateTime.UtcNow + TestHost.Timeout;
            while (!(await gateway.SendRawAsync(Upgrade("/x", "foo"))).StartsWith("HTTP/1.1 403", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < deadline, "the reloaded upgrade setting was not applied");
                await Task.Delay(50);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Reload_Invalid_KeepsRunningSettings()
    {
        await using var backend = await TestHost.StartAsync(b => b.ListenLoopback(), BackendApp.Map);
        var root = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReverseProxy:Upgrades:0:UpgradeType"] = "foo",
            ["ReverseProxy:Routes:r:ClusterId"] = "backend",
            ["ReverseProxy:Routes:r:Match:Path"] = "/{**rest}",
            ["ReverseProxy:Clusters:backend:Destinations:d:Address"] = TestHost.Address(backend).ToString(),
        }).Build();
        await using var gateway = await UpgradeGateway.StartAsync(root.GetSection("ReverseProxy"), steps: UpgradeGateway.AnswerAllowedUpgrades);

        // Reload() raises the change token synchronously, so the policy has reacted when it returns.
        root["ReverseProxy:Routes:r:Upgrades:0:UpgradeType"] = "bar";
        root.Reload();
        Assert.StartsWith("HTTP/1.1 200", await gateway.SendRawAsync(Upgrade("/x", "bar")), StringComparison.Ordinal);

        root["ReverseProxy:Upgrades:0:Chain"] = "unknown";
        root["ReverseProxy:Routes:r:Upgrades:0:Enabled"] = "false";
        root.Reload();

        Assert.StartsWith("HTTP/1.1 200", await gateway.SendRawAsync(Upgrade("/x", "bar")), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200", await gateway.SendRawAsync(Upgrade("/x", "foo")), StringComparison.Ordinal);
    }
}
