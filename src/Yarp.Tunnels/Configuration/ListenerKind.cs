namespace Yarp.Tunnels.Configuration;

/// <summary>What a listener binds and what it runs.</summary>
internal enum ListenerKind
{
    SocketHttp,
    SocketTcpProxy,
    InternalHttp,
    InternalTcpProxy,
}
