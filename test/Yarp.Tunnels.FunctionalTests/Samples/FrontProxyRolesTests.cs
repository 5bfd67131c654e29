using System.Text.RegularExpressions;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>
/// The same topology as separate processes over real TCP (<c>--role front|sidecar|service</c>): three service
/// replicas, two sidecars (one per service, service1's balancing its two replicas), one front.
/// </summary>
public class FrontProxyRolesTests
{
    [Fact]
    public async Task SeparateProcesses_FrontSidecarsServices_SameAnswersOverTcp()
    {
        int[] servicePorts = [FreePort.Get(), FreePort.Get(), FreePort.Get()];
        int[] sidecarPorts = [FreePort.Get(), FreePort.Get()];
        var processes = new List<ToolProcess>();
        try
        {
            processes.Add(FrontProxySample.Start(["--role", "service", "--service", "1", "--replica", "service1-1", "--listen", $"127.0.0.1:{servicePorts[0]}"]));
            processes.Add(FrontProxySample.Start(["--role", "service", "--service", "1", "--replica", "service1-2", "--listen", $"127.0.0.1:{servicePorts[1]}"]));
            processes.Add(FrontProxySample.Start(["--role", "service", "--service", "2", "--replica", "service2-1", "--listen", $"127.0.0.1:{servicePorts[2]}"]));
            processes.Add(FrontProxySample.Start(["--role", "sidecar", "--replica", "sidecar1", "--listen", $"127.0.0.1:{sidecarPorts[0]}",
                "--upstream", $"127.0.0.1:{servicePorts[0]},127.0.0.1:{servicePorts[1]}"]));
            processes.Add(FrontProxySample.Start(["--role", "sidecar", "--replica", "sidecar2", "--listen", $"127.0.0.1:{sidecarPorts[1]}",
                "--upstream", $"http://127.0.0.1:{servicePorts[2]}"]));
            var front = FrontProxySample.Start([.. FrontProxySample.EphemeralPorts, "--role", "front",
                "--service1", $"127.0.0.1:{sidecarPorts[0]}", "--service2", $"127.0.0.1:{sidecarPorts[1]}"]);
            processes.Add(front);
            foreach (var process in processes)
            {
                await process.WaitForOutputAsync(FrontProxySample.StartedLine());
            }
            var port = await FrontProxySample.WaitForListenerAsync(front, "front_http");
            Assert.Contains($"Listener ingress: tcp://127.0.0.1:{sidecarPorts[0]} bound on 127.0.0.1:{sidecarPorts[0]} (Bound)", processes[3].Output, StringComparison.Ordinal);
            Assert.Contains($"Listening on http://127.0.0.1:{servicePorts[0]}", processes[0].Output, StringComparison.Ordinal);

            var service1 = await FrontProxySample.GetGreetingsAsync(port, [.. Enumerable.Repeat("/service/1", 4)]);
            FrontProxySample.AssertRoundRobin([.. service1.Select(g => g.Hostname)], 2);
            Assert.Equal(["service1-1", "service1-2"], service1.Select(g => g.Hostname).Distinct().Order());
            Assert.All(service1, g => Assert.Equal("127.0.0.1", g.ResolvedHostname));
            Assert.Equal(new FrontProxySample.Greeting(2, "service2-1", "127.0.0.1"), Assert.Single(await FrontProxySample.GetGreetingsAsync(port, ["/service/2"])));

            // The front speaks h2c to the sidecars, which speak HTTP/1.1 to the services: the sidecar's Auto listener took HTTP/2.
            var curl = ToolProcess.Require("curl");
            var direct = await ToolProcess.RunAsync(curl, ["-sS", "-i", "--http2-prior-knowledge", "--max-time", "20", $"http://127.0.0.1:{sidecarPorts[1]}/service/2"]);
            Assert.Matches(new Regex(@"^HTTP/2 200", RegexOptions.Multiline), direct.StdoutText);
            Assert.Matches(new Regex(@"^x-upstream-service-time: \d+", RegexOptions.Multiline | RegexOptions.IgnoreCase), direct.StdoutText);
            Assert.All(processes, p => Assert.False(p.HasExited, p.Output));
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }
    }
}
