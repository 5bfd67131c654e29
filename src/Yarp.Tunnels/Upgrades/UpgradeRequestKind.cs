namespace Yarp.Tunnels.Upgrades;

/// <summary>How a request asks for an upgraded (opaque, two-way) stream.</summary>
internal enum UpgradeRequestKind
{
    /// <summary>HTTP/1.1 <c>Connection: upgrade</c> with an <c>Upgrade: &lt;token&gt;</c> header.</summary>
    Http1Upgrade,

    /// <summary>HTTP/2 extended CONNECT (RFC 8441) whose <c>:protocol</c> is the token (anything but <c>bytestream</c>).</summary>
    ExtendedConnect,

    /// <summary>Plain CONNECT: HTTP/1.1 authority-form, HTTP/2 classic CONNECT, or extended CONNECT with <c>:protocol bytestream</c>.</summary>
    Connect,
}
