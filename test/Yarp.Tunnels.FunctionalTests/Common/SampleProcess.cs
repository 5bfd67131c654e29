using System.Net;
using System.Net.Sockets;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>Runs a built sample as its own process on its fixed ports.</summary>
internal static class SampleProcess
{
    /// <param name="folder">The sample's folder under <c>samples/</c>.</param>
    /// <param name="assemblyName">Its assembly name.</param>
    /// <param name="environment">Extra environment variables.</param>
    /// <param name="arguments">Command-line arguments.</param>
    /// <param name="workingDirectory">The working directory, hence the content root (default: the sample's folder, with its appsettings.json).</param>
    public static ToolProcess Start(string folder, string assemblyName, IReadOnlyDictionary<string, string>? environment = null,
        IEnumerable<string>? arguments = null, string? workingDirectory = null)
    {
        var dotnet = ToolProcess.Require("dotnet");
        var (sampleDir, sampleDll) = RepoPaths.Sample(folder, assemblyName);
        var variables = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }
        return ToolProcess.StartBackground(dotnet, [sampleDll, .. arguments ?? []], workingDirectory ?? sampleDir, variables);
    }

    public static void AssertPortFree(int port)
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

    public static async Task WaitUntilAcceptingAsync(ToolProcess process, int port)
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
