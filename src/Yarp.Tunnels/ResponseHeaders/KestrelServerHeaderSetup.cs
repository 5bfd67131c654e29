using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.ResponseHeaders;

/// <summary>
/// Turns Kestrel's own <c>Server: Kestrel</c> off when the <c>ResponseHeaders</c> block sets a server header at
/// startup, so the gateway's setting is the only source (also for Kestrel's own error responses, which then have none).
/// </summary>
internal sealed class KestrelServerHeaderSetup(TunnelsConfigurationSource source) : IConfigureOptions<KestrelServerOptions>
{
    public void Configure(KestrelServerOptions options)
    {
        if (ResponseHeadersConfigReader.ConfiguresServerHeader(source.ReverseProxy))
        {
            options.AddServerHeader = false;
        }
    }
}
