using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.Tunnels.Connect;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Yarp.Tunnels' connection middleware for Kestrel endpoints the app binds itself.</summary>
public static class TunnelsListenOptionsExtensions
{
    /// <summary>
    /// Lets HTTP/1.1 CONNECT requests on this endpoint become tunnels (routes with a <c>Connect</c> block). Listeners
    /// declared in <c>ReverseProxy:Listeners</c> have it already. Call it after <c>UseHttps()</c>, so it sees the
    /// decrypted bytes; it passes HTTP/2 connections through untouched.
    /// </summary>
    public static ListenOptions UseTunnelsConnect(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        listenOptions.Use(Http1ConnectShim.Use);
        return listenOptions;
    }
}
