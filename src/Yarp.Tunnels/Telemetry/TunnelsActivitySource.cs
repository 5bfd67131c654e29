using System.Diagnostics;

namespace Yarp.Tunnels.Telemetry;

/// <summary>The OpenTelemetry <see cref="ActivitySource"/> of Yarp.Tunnels (listen to <c>Yarp.Tunnels</c>).</summary>
internal static class TunnelsActivitySource
{
    public const string Name = "Yarp.Tunnels";

    public static ActivitySource Instance { get; } = new(Name, typeof(TunnelsActivitySource).Assembly.GetName().Version?.ToString());
}
