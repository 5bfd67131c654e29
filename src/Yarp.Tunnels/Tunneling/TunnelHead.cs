namespace Yarp.Tunnels.Tunneling;

/// <summary>What to send to open one tunnel on an upstream (a CONNECT proxy or a POST endpoint).</summary>
/// <param name="Method"><c>CONNECT</c> or <c>POST</c> (or an extended CONNECT when <paramref name="Protocol"/> is set).</param>
/// <param name="Authority">The CONNECT target <c>host:port</c> (already formatted), or the POST request's host.</param>
/// <param name="Path">The POST path; null for CONNECT.</param>
/// <param name="Protocol">The extended CONNECT <c>:protocol</c>; null for a classic CONNECT or a POST.</param>
/// <param name="Headers">Extra request headers (already formatted), in order.</param>
internal sealed record TunnelHead(
    string Method,
    string Authority,
    string? Path,
    string? Protocol,
    IReadOnlyList<KeyValuePair<string, string>> Headers);
