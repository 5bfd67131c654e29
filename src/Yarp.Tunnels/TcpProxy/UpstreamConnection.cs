namespace Yarp.Tunnels.TcpProxy;

/// <summary>The outcome of <see cref="IUpstreamConnector.ConnectAsync"/>: a connected end, or a typed failure with a reason for logs.</summary>
internal readonly record struct UpstreamConnection(RelayEnd? End, UpstreamFailure Failure, string? Reason)
{
    public static UpstreamConnection Connected(RelayEnd end) => new(end, UpstreamFailure.None, null);

    public static UpstreamConnection Failed(UpstreamFailure failure, string reason) => new(null, failure, reason);
}
