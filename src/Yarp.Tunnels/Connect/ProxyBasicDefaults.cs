namespace Yarp.Tunnels.Connect;

/// <summary>Names of the <c>Proxy-Authorization: Basic</c> authentication scheme.</summary>
public static class ProxyBasicDefaults
{
    /// <summary>The default scheme name, <c>ProxyBasic</c>.</summary>
    public const string AuthenticationScheme = "ProxyBasic";
}
