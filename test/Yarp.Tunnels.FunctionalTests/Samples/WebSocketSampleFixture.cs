using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>The already-built WebSocket sample, running as a process on its fixed ports 18080 and 18443.</summary>
public sealed class WebSocketSampleFixture : IAsyncLifetime
{
    public const int HttpPort = 18080;
    public const int HttpsPort = 18443;

    private ToolProcess? _sample;

    /// <summary>What the sample printed so far, for failure messages.</summary>
    public string Output => _sample?.Output ?? "";

    public async Task InitializeAsync()
    {
        SampleProcess.AssertPortFree(HttpPort);
        SampleProcess.AssertPortFree(HttpsPort);
        _sample = SampleProcess.Start("WebSocket", "WebSocketSample");
        await SampleProcess.WaitUntilAcceptingAsync(_sample, HttpPort);
        await SampleProcess.WaitUntilAcceptingAsync(_sample, HttpsPort);
    }

    public Task DisposeAsync()
    {
        _sample?.Dispose();
        return Task.CompletedTask;
    }
}
