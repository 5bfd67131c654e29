namespace TcpTunnel;

/// <summary>
/// The encapsulating half (Envoy's L1): <c>l1.json</c> declares listener_0 (10000, hostname host.com:443) and
/// listener_1 (10002, hostname 127.0.0.1:10003, header foo: bar), both tunnelling through cluster_0 (127.0.0.1:10001);
/// the mode picks the tunnel's HTTP version and method.
/// </summary>
internal static class L1
{
    public static void Configure(ConfigurationManager configuration, string mode)
    {
        var (protocol, usePost) = mode switch
        {
            "h1-connect" => ("Http1", "false"),
            "h2-post" => ("Http2", "true"),
            _ => ("Http2", "false"),
        };
        var overrides = new Dictionary<string, string?>();
        foreach (var listener in new[] { "listener_0", "listener_1" })
        {
            overrides[$"ReverseProxy:Listeners:{listener}:TcpProxy:Tunneling:Protocol"] = protocol;
            overrides[$"ReverseProxy:Listeners:{listener}:TcpProxy:Tunneling:UsePost"] = usePost;
        }
        RoleConfiguration.Add(configuration, "l1.json", overrides);
    }
}
