// Envoy's proxy_connect.yaml on the same ports: CONNECT forwarded (not terminated) to an upstream HTTP/2 proxy.
// Switch (environment): PROXYCONNECT_ROLE = proxy | upstream | both (default: both in one process).
//   proxy (proxy.json): 127.0.0.1:10001, Protocols Auto; every CONNECT goes on as a classic HTTP/2 CONNECT to the
//       upstream proxy 127.0.0.1:10002 (cluster_0, HttpRequest:Version 2, exact), whose answer comes back to the client.
//   upstream (upstream.json): 127.0.0.1:10002, HTTP/2 (h2c): terminates the CONNECT to its target (original
//       destination), allowed: 127.0.0.1:10003 and port 443 on public hosts, else 403 with Proxy-Status. Any HTTP/2
//       CONNECT proxy can take its place (e.g. nghttpx --http2-proxy in front of squid).
// Each half is a host of its own (two proxies, as in Envoy's example: their CONNECT routes would match the same
// requests in one route table). Its own sample rather than a TcpTunnel role: TcpTunnel's L1 listens on 10002 too.
var role = Environment.GetEnvironmentVariable("PROXYCONNECT_ROLE") is { Length: > 0 } r ? r : "both";
string[] halves = role switch
{
    "proxy" => ["proxy.json"],
    "upstream" => ["upstream.json"],
    "both" => ["upstream.json", "proxy.json"],
    _ => [],
};
if (halves.Length == 0)
{
    Console.Error.WriteLine($"PROXYCONNECT_ROLE '{role}' is not one of proxy, upstream, both.");
    return 2;
}

var hosts = halves.Select(half => RoleConfiguration.BuildHost(args, half)).ToList();
await Task.WhenAll(hosts.Select(host => host.RunAsync()));
return 0;
