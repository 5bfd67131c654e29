namespace Yarp.Tunnels.Configuration;

/// <summary>
/// Set on every HTTP connection accepted on a Yarp.Tunnels listener (socket or internal): which listener it arrived on
/// and the prefix of its <c>http.&lt;prefix&gt;.*</c> statistics. Kestrel exposes connection features to each request, so
/// middleware reads it from <c>HttpContext.Features</c>.
/// </summary>
internal interface IHttpListenerFeature
{
    /// <summary>The listener id (its key under <c>ReverseProxy:Listeners</c>).</summary>
    string ListenerName { get; }

    /// <summary>The listener's <c>StatPrefix</c>; defaults to the listener id.</summary>
    string StatPrefix { get; }
}
