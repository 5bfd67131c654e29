using Yarp.ReverseProxy.Forwarder;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// The <see cref="IForwarderErrorFeature"/> the upgrade forwarder sets when it fails, as YARP's forwarder does, so passive
/// health checks and the envoy-internal 503 see upgrade failures too.
/// </summary>
internal sealed class UpgradeForwarderError(ForwarderError error, Exception? exception) : IForwarderErrorFeature
{
    public ForwarderError Error { get; } = error;

    public Exception? Exception { get; } = exception;
}
