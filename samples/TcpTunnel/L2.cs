namespace TcpTunnel;

/// <summary>
/// The decapsulating half (Envoy's L2, <c>terminate_http1_connect</c> / <c>terminate_http2_connect</c> /
/// <c>terminate_http2_post</c> on one port): <c>l2.json</c> declares listener l2 (127.0.0.1:10001, Protocols Auto), the
/// CONNECT route to the original destination under a policy allowing exactly 127.0.0.1:10003 and port 443 on public
/// hosts, and the POST route to the fixed destination 127.0.0.1:10003.
/// </summary>
internal static class L2
{
    public static void Configure(ConfigurationManager configuration) => RoleConfiguration.Add(configuration, "l2.json");
}
