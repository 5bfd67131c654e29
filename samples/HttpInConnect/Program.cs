// Envoy's HTTP-in-CONNECT examples (seed 001) on the same ports, in one process or two. Switch (environment):
//   HTTPINCONNECT_ROLE = encap | decap | both (default: both halves in one process)
//   encap (encap.json, Encap.cs): HTTP 127.0.0.1:10000 -> internal listener "encap" (TCP proxy) -> the request inside a
//       classic HTTP/2 CONNECT (host.com:443) to 127.0.0.1:10001 (encapsulate_http_in_http2_connect.yaml).
//   decap (decap.json, DecapHttpLayer.cs): 127.0.0.1:10001, Protocols Auto, terminates every CONNECT (HTTP/1.1 or
//       HTTP/2; any target, e.g. host.com:443, with no DNS lookup) into internal listener "decap", whose own HTTP layer
//       (Protocols Auto) answers every request with "Hello, world!" (terminate_http_in_http2_connect.yaml).
// Each half is a host of its own, as in Envoy each is its own listener with its own route table: the encap half's
// catch-all route and the decap half's CONNECT route never compete.
using HttpInConnect;

var role = Environment.GetEnvironmentVariable("HTTPINCONNECT_ROLE") is { Length: > 0 } r ? r : "both";
if (role is not ("encap" or "decap" or "both"))
{
    Console.Error.WriteLine($"HTTPINCONNECT_ROLE '{role}' is not one of encap, decap, both.");
    return 2;
}

// The decap cluster's internal listener must be bound before the decap host validates its destination.
await using var decapLayer = role is "encap" ? null : await DecapHttpLayer.StartAsync();
await using var decap = role is "encap" ? null : RoleConfiguration.BuildHost(args, "decap.json");
if (role is "decap")
{
    await decap!.RunAsync();
    return 0;
}
if (decap is not null)
{
    await decap.StartAsync();
}
await using var encap = RoleConfiguration.BuildHost(args, Encap.RoleFile);
await encap.RunAsync();
return 0;
