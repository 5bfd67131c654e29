using Microsoft.AspNetCore.Connections;

namespace Yarp.Tunnels.Configuration;

/// <summary>The identity of one HTTP listener, set on each connection it accepts.</summary>
internal sealed class HttpListenerFeature(string listenerName, string statPrefix) : IHttpListenerFeature
{
    public string ListenerName { get; } = listenerName;

    public string StatPrefix { get; } = statPrefix;

    /// <summary>Connection middleware that sets this feature on every connection, before anything else reads it.</summary>
    public ConnectionDelegate Apply(ConnectionDelegate next) => connection =>
    {
        connection.Features.Set<IHttpListenerFeature>(this);
        return next(connection);
    };
}
