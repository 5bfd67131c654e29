using System.Security.Cryptography;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>Runs the already-built InternalListenerChain sample as a process and drives it with socat, on its fixed ports.</summary>
[Collection(FixedPortsCollection.Name)]
public class InternalListenerChainSampleTests
{
    private static readonly int[] SamplePorts = [9999, 19000];
    private static readonly int[] BackendPorts = [10000, 19001];

    [Fact]
    public async Task Run_SocatThroughPorts9999And19000_EchoesByteExact()
    {
        var socat = ToolProcess.Require("socat");
        foreach (var port in SamplePorts.Concat(BackendPorts))
        {
            SampleProcess.AssertPortFree(port);
        }

        using var backend10000 = ToolProcess.StartBackground(socat, ["TCP-LISTEN:10000,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]);
        using var backend19001 = ToolProcess.StartBackground(socat, ["TCP-LISTEN:19001,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]);
        using var sample = SampleProcess.Start("InternalListenerChain", "InternalListenerChain");
        await SampleProcess.WaitUntilAcceptingAsync(backend10000, 10000);
        await SampleProcess.WaitUntilAcceptingAsync(backend19001, 19001);
        await SampleProcess.WaitUntilAcceptingAsync(sample, 9999);
        await SampleProcess.WaitUntilAcceptingAsync(sample, 19000);

        foreach (var port in SamplePorts)
        {
            var input = RandomNumberGenerator.GetBytes(1024 * 1024);
            var result = await ToolProcess.RunAsync(socat, ["-t", "5", "-", $"TCP:127.0.0.1:{port}"], input, TimeSpan.FromSeconds(30));
            Assert.True(result.ExitCode == 0, $"port {port}: {result}{Environment.NewLine}sample output:{Environment.NewLine}{sample.Output}");
            Bytes.AssertEqual(input, result.Stdout, $"echo through {port}");
        }

        Assert.False(sample.HasExited, sample.Output);
        // Only the declared listeners are sockets: no Kestrel default endpoint.
        Assert.DoesNotContain("localhost:5000", sample.Output, StringComparison.Ordinal);
    }
}
