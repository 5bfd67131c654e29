using Microsoft.Playwright;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>The already-built WebSocket sample, running as a process on its fixed ports 18080 and 18443.</summary>
public sealed class WebSocketSampleFixture : IAsyncLifetime
{
    public const int HttpPort = 18080;
    public const int HttpsPort = 18443;

    private const string Chromium = "/usr/bin/chromium";

    private ToolProcess? _sample;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

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

    /// <summary>Headless Debian Chromium driven by Playwright (launched once for the class: a launch takes seconds).</summary>
    public async Task<IBrowser> BrowserAsync()
    {
        if (_browser is null)
        {
            Assert.True(File.Exists(Chromium), $"{Chromium} is required (CI: apt-get install chromium).");
            _playwright = await Playwright.CreateAsync();
            _browser = await _playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = Chromium,
                Args = ["--ignore-certificate-errors"],
                Timeout = 30_000,
            });
        }
        return _browser;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
        _sample?.Dispose();
    }
}
