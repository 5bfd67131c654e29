using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>Scaling service1 like the sandbox's <c>docker compose scale</c>: by environment, and live by editing appsettings.json.</summary>
public class FrontProxyScalingTests
{
    private static readonly string[] SixRequests = [.. Enumerable.Repeat("/service/1", 6)];

    [Fact]
    public async Task Service1Replicas3_SixRequests_ThreeHostnamesRoundRobin()
    {
        using var sample = FrontProxySample.Start(FrontProxySample.EphemeralPorts, new Dictionary<string, string> { ["SERVICE1_REPLICAS"] = "3" });
        var port = await FrontProxySample.WaitForListenerAsync(sample, "front_http");

        var greetings = await FrontProxySample.GetGreetingsAsync(port, SixRequests);

        FrontProxySample.AssertRoundRobin([.. greetings.Select(g => g.Hostname)], 3);
        Assert.Equal(["service1-1", "service1-2", "service1-3"], greetings.Select(g => g.Hostname).Distinct().Order());
        Assert.All(greetings, g => Assert.Equal($"envoy-internal://{g.Hostname}-app", g.ResolvedHostname));
        // Service 2 keeps its one replica.
        Assert.Equal("service2-1", Assert.Single(await FrontProxySample.GetGreetingsAsync(port, ["/service/2"])).Hostname);
    }

    [Fact]
    public async Task AppsettingsReplicas_EditedWhileRunning_AddsThenRemovesReplicasLive()
    {
        var directory = Directory.CreateTempSubdirectory("yarp-tunnels-frontproxy");
        try
        {
            var settingsPath = Path.Combine(directory.FullName, "appsettings.json");
            var settings = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(FrontProxySample.Directory, "appsettings.json")))!;
            await File.WriteAllTextAsync(settingsPath, settings.ToJsonString());
            using var sample = FrontProxySample.Start(FrontProxySample.EphemeralPorts, workingDirectory: directory.FullName);
            var port = await FrontProxySample.WaitForListenerAsync(sample, "front_http");
            var admin = await FrontProxySample.WaitForListenerAsync(sample, "admin");
            Assert.Equal(["service1-1"], (await FrontProxySample.GetGreetingsAsync(port, SixRequests)).Select(g => g.Hostname).Distinct());
            var before = await FrontProxySample.StatsAsync(admin);
            Assert.Equal(1, before["cluster.service1.membership_total"]);

            settings["FrontProxy"]!["Services"]!["service1"]!["Replicas"] = 3;
            await File.WriteAllTextAsync(settingsPath, settings.ToJsonString());
            await sample.WaitForOutputAsync(new Regex(@"Replica service1-3 added"));
            // The front applies its new cluster asynchronously: wait until the third replica answers, then count.
            await WaitForHostnameAsync(port, "service1-3");
            FrontProxySample.AssertRoundRobin([.. (await FrontProxySample.GetGreetingsAsync(port, SixRequests)).Select(g => g.Hostname)], 3);
            var scaledUp = await FrontProxySample.StatsAsync(admin);
            Assert.Equal(3, scaledUp["cluster.service1.membership_total"]);
            Assert.True(scaledUp["cluster.service1.membership_change"] > before["cluster.service1.membership_change"], "membership_change did not move");
            Assert.Equal(before["cluster.service2.membership_change"], scaledUp["cluster.service2.membership_change"]);

            settings["FrontProxy"]!["Services"]!["service1"]!["Replicas"] = 2;
            await File.WriteAllTextAsync(settingsPath, settings.ToJsonString());
            await sample.WaitForOutputAsync(new Regex(@"Replica service1-3 removed"));
            var afterRemoval = await FrontProxySample.GetGreetingsAsync(port, SixRequests);
            Assert.Equal(["service1-1", "service1-2"], afterRemoval.Select(g => g.Hostname).Distinct().Order());
            var scaledDown = await FrontProxySample.StatsAsync(admin);
            Assert.Equal(2, scaledDown["cluster.service1.membership_total"]);
            Assert.True(scaledDown["cluster.service1.membership_change"] > scaledUp["cluster.service1.membership_change"], "membership_change did not move");
            Assert.False(sample.HasExited, sample.Output);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task WaitForHostnameAsync(int port, string hostname)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!(await FrontProxySample.GetGreetingsAsync(port, SixRequests)).Any(g => g.Hostname == hostname))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{hostname} never answered.");
        }
    }
}
