namespace Yarp.Tunnels.Utilities;

/// <summary>Formats the RFC 9209 <c>Proxy-Status</c> header Yarp.Tunnels adds to the errors it generates.</summary>
internal static class ProxyStatus
{
    public const string HeaderName = "Proxy-Status";

    /// <summary>Our entry: <c>yarp-tunnels; error=&lt;type&gt;; details="…"</c> (details must not contain quotes or backslashes).</summary>
    public static string Format(string error, string details) => $"yarp-tunnels; error={error}; details=\"{details}\"";
}
