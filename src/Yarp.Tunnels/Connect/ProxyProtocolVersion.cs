namespace Yarp.Tunnels.Connect;

/// <summary>The PROXY protocol header sent to a CONNECT target (HAProxy's specification); configured as <c>v1</c> or <c>v2</c>.</summary>
public enum ProxyProtocolVersion
{
    /// <summary>The text header: <c>PROXY TCP4 src dst sport dport\r\n</c>.</summary>
    V1 = 1,

    /// <summary>The binary header (signature, version 2 PROXY command, address block).</summary>
    V2 = 2,
}
