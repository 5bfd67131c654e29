using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>The FrontProxy sample as shipped (`dotnet run --project samples/FrontProxy`): fixed ports 8080, 8443 and 8001 (admin).</summary>
public sealed class FrontProxySampleFixture : IAsyncLifetime
{
    public const int HttpPort = 8080;
    public const int HttpsPort = 8443;
    public const int AdminPort = 8001;
    public const int Service1SidecarAdminPort = 8101;

    private ToolProcess? _sample;

    public string Output => _sample?.Output ?? "";

    public async Task InitializeAsync()
    {
        SampleProcess.AssertPortFree(HttpPort);
        SampleProcess.AssertPortFree(HttpsPort);
        SampleProcess.AssertPortFree(AdminPort);
        _sample = FrontProxySample.Start();
        Assert.Equal(HttpPort, await FrontProxySample.WaitForListenerAsync(_sample, "front_http"));
        Assert.Equal(HttpsPort, await FrontProxySample.WaitForListenerAsync(_sample, "front_https"));
        Assert.Equal(AdminPort, await FrontProxySample.WaitForListenerAsync(_sample, "admin"));
    }

    public Task DisposeAsync()
    {
        _sample?.Dispose();
        return Task.CompletedTask;
    }
}
