using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// Kestrel connection middleware on the hidden HTTP endpoints: <c>http.&lt;prefix&gt;.downstream_cx_total</c> and
/// <c>downstream_cx_active</c> for every connection an HTTP listener (socket or internal) hands to Kestrel, for as long
/// as Kestrel serves it. It runs before the HTTP/2 sniffer and TLS, so a sniffed connection counts once.
/// </summary>
internal sealed class HttpConnectionStats(TunnelMetrics metrics)
{
    public ConnectionDelegate Use(ConnectionDelegate next) => async connection =>
    {
        var scope = metrics.Scope(StatNames.HttpFamily, HttpStatPrefix.Of(connection.Features));
        scope[StatNames.DownstreamCxTotal].Increment();
        var active = scope[StatNames.DownstreamCxActive];
        active.Increment();
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            active.Decrement();
        }
    };
}
