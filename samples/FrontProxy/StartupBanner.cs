using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Yarp.Tunnels.Configuration;

namespace FrontProxy;

/// <summary>
/// What a started host serves, from <see cref="IListenerStateProvider"/> (the real listeners, never Kestrel's hidden
/// endpoints, whose "Now listening on" lines the sample's logging keeps quiet).
/// </summary>
internal static partial class StartupBanner
{
    public static void Log(WebApplication app, string what, IEnumerable<string> details)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FrontProxy");
        var listeners = app.Services.GetService<IListenerStateProvider>()?.GetListeners() ?? [];
        foreach (var listener in listeners)
        {
            LogListener(logger, listener.Name, listener.Address, string.Join(", ", listener.BoundEndPoints), listener.State);
        }
        if (listeners.Count == 0)
        {
            foreach (var address in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
            {
                LogAddress(logger, address);
            }
        }
        foreach (var detail in details)
        {
            LogDetail(logger, detail);
        }
        LogStarted(logger, what);
    }

    [LoggerMessage(1, LogLevel.Information, "Listener {Name}: {Address} bound on {EndPoints} ({State})")]
    private static partial void LogListener(ILogger logger, string name, string address, string endPoints, ListenerState state);

    [LoggerMessage(2, LogLevel.Information, "Listening on {Address}")]
    private static partial void LogAddress(ILogger logger, string address);

    [LoggerMessage(3, LogLevel.Information, "{Detail}")]
    private static partial void LogDetail(ILogger logger, string detail);

    [LoggerMessage(4, LogLevel.Information, "{What} started. Press Ctrl+C to shut down.")]
    private static partial void LogStarted(ILogger logger, string what);
}
