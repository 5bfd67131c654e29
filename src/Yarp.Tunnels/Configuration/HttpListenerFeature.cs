using System.Security.Cryptography.X509Certificates;

namespace Yarp.Tunnels.Configuration;

/// <summary>The identity of one HTTP listener, set on each connection it accepts.</summary>
internal sealed class HttpListenerFeature(string listenerName, string statPrefix, X509Certificate2? certificate = null, bool isAdmin = false) : IHttpListenerFeature
{
    public string ListenerName { get; } = listenerName;

    public string StatPrefix { get; } = statPrefix;

    /// <summary>The certificate the hidden TLS endpoints present for this listener.</summary>
    public X509Certificate2? Certificate { get; } = certificate;

    /// <summary>Whether the connection arrived on the admin listener: the admin endpoint answers its requests, never the app.</summary>
    public bool IsAdmin { get; } = isAdmin;
}
