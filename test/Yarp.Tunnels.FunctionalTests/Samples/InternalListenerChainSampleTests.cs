using System.Net;
using System.Net.Sockets;
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
        var dotnet = ToolProcess.Require("dotnet");
        var (sampleDir, sampleDll) = LocateSample();
        foreach (var port in SamplePorts.Concat(BackendPorts))
        {
            AssertPortFree(port);
        }

        using var backend10000 = ToolProcess.StartBackground(socat, ["TCP-LISTEN:10000,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]);
        using var backend19001 = ToolProcess.StartBackground(socat, ["TCP-LISTEN:19001,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]);
        using var sample = ToolProcess.StartBackground(dotnet, [sampleDll], sampleDir, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
        });
        await WaitUntilAcceptingAsync(backend10000, 10000);
        await WaitUntilAcceptingAsync(backend19001, 19001);
        await WaitUntilAcceptingAsync(sample, 9999);
        await WaitUntilAcceptingAsync(sample, 19000);

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

    /// <summary>The sample's dll, built by the project reference, for this test assembly's configuration.</summary>
    private static (string Directory, string Dll) LocateSample()
    {
        // <repo>/test/Yarp.Tunnels.FunctionalTests/bin/<Configuration>/net10.0/Yarp.Tunnels.FunctionalTests.dll
        var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testDir.Parent!.Name;
        var repo = testDir;
        while (repo is not null && !File.Exists(Path.Combine(repo.FullName, "Yarp.Tunnels.sln")))
        {
            repo = repo.Parent;
        }
        Assert.True(repo is not null, $"No Yarp.Tunnels.sln above {testDir.FullName}.");
        var sampleDir = Path.Combine(repo.FullName, "samples", "InternalListenerChain");
        var dll = Path.Combine(sampleDir, "bin", configuration, testDir.Name, "InternalListenerChain.dll");
        Assert.True(File.Exists(dll), $"The sample was not built at {dll}; build the functional test project (it references the sample).");
        return (sampleDir, dll);
    }

    private static void AssertPortFree(int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch (SocketException ex)
        {
            Assert.Fail($"Port {port}, fixed by the sample, is in use ({ex.SocketErrorCode}); stop whatever listens there.");
        }
    }

    private static async Task WaitUntilAcceptingAsync(ToolProcess process, int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            Assert.False(process.HasExited, $"The process serving port {port} exited:{Environment.NewLine}{process.Output}");
            try
            {
                using var probe = await SocketIo.ConnectAsync(port, TestHost.TimeoutToken());
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            catch (SocketException ex)
            {
                Assert.Fail($"Port {port} did not accept connections within 30 s ({ex.SocketErrorCode}):{Environment.NewLine}{process.Output}");
            }
        }
    }
}
