// Yarp.Tunnels benchmarks. Built with the solution (it is not a test project); always run in Release.
//
//   dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- micro [BenchmarkDotNet args]
//       BenchmarkDotNet with [MemoryDiagnoser] and a short job (1 launch, 3 warm-ups, 8 iterations of 250 ms); ~1.5 min:
//         InternalConnectBenchmarks  - open + close an internal connection (goal: <= 5 us) vs loopback TCP connect + accept + close.
//         InternalTransferBenchmarks - 64 KiB echo round trip on an open internal connection vs a loopback socket pair.
//       Without a --filter every benchmark runs. Examples: `-- micro --filter '*Connect*'`,
//       `-- micro --inProcess` (no child-process build: quicker, less isolated).
//
//   dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- e2e [--seconds 5] [--rounds 3] [--warmup 0.5] [--only bulk1,bulk4,conn,http]
//       One process, one run; each chain has exactly one extra hop, internal vs loopback TCP:
//         internal: TCP proxy 127.0.0.1:P -> envoy-internal://hop (internal TCP proxy listener) -> raw backend socket
//         loopback: TCP proxy 127.0.0.1:P -> tcp://127.0.0.1:Q (socket TCP proxy listener)   -> raw backend socket
//       Measures TCP bulk Gbit/s (1 and 4 streams, bytes counted by the backend), TCP connections/s (32 loops of
//       connect, 1-byte echo, close) and HTTP/1.1 req/s through YARP to a backend on envoy-internal://web vs
//       http://127.0.0.1:PORT, driven by h2load (Debian/Ubuntu: apt-get install nghttp2-client; exits 1 without it).
//       A direct, proxy-less figure is printed for reference. Each figure is --seconds per chain, split into --rounds
//       interleaved rounds; about 1.5 minutes with the defaults. Prints markdown tables with internal/loopback ratios
//       and the CPU time spent per GB, connection or request.
//
//   dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- memory [--idle 2000] [--stalled 20] [--buffer-kb 1024]
//       Memory per connection, through the InternalListenerChain topology (tcp -> envoy-internal://encap -> tcp backend)
//       and socket to socket: idle tunnels (one byte echoed, then silence) and stalled ones (1,448-byte writes trickled
//       toward a backend that never reads until the proxy stops reading). Prints the GC's committed bytes (after an
//       aggressive collection) and VmData added per connection. About a minute.
//
//   dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- websocket [--messages 20000] [--seconds 6] [--rounds 3] [--connections 32] [--size 32] [--only h1-gateway,...] [--gateway-env NAME=VALUE]
//       One process, one run: WebSocket echo round trips (p50/p99 on one socket) and messages/s (--connections sockets,
//       one message in flight each) straight to a Kestrel echo, through the Yarp.Tunnels gateway (its own process:
//       Protocols Auto, MapTunnelsReverseProxy), through the same process's plain YARP app (MapReverseProxy: YARP's own
//       WebSocket forwarding) and TCP proxy listener (the relay alone), both for reference, and through nginx (HTTP/1.1 Upgrade recipe; apt-get install nginx, exits 1 without it), over HTTP/1.1
//       and HTTP/2 (RFC 8441; nginx has no WebSocket over HTTP/2), with the proxy processes' CPU time per message.
//       --only runs the named paths first (h1-direct, h1-gateway, h1-yarp, h1-tcp, h1-nginx, h2-direct, h2-gateway) plus the
//       rows the ratios need, e.g. to attach perf to the gateway process. About 1 minute with the defaults.
//
//   dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- h2tunnel [--tunnels 10000] [--seconds 4] [--warmup 5]
//       TCP over classic HTTP/2 CONNECT: client -> L1 (TCP proxy listener, Tunneling Protocol Http2) -> node's http2 CONNECT
//       server (test/Yarp.Tunnels.FunctionalTests/Interop/node/h2-connect-server.js; needs node) -> raw sink/echo: bulk
//       Gbit/s (1 and 4 streams), tunnels/s (32 loops of connect, 1-byte echo, close), each after --warmup s of the same
//       load, then --tunnels idle tunnels (node echoes them itself; the clients in a child process): upstream HTTP/2
//       connections, tunnels per connection, committed bytes, RSS and VmData per tunnel. About a minute and a half.
//
//   dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- h1tunnel-memory [--tunnels 10000]
//       Memory per idle HTTP/1.1 CONNECT tunnel on L1 (TCP proxy listener, Tunneling Protocol Http1, this process) -> the
//       connect-memory gateway in a child process -> its echo; clients in another child process. L1 holds 2 sockets per
//       tunnel: the open-file limit (ulimit -n; 20,000 hard on the development VM) caps the count, which is then printed.
//
//   bash eng/bench-frontproxy.sh
//       The FrontProxy sample as shipped (front -> sidecar -> service over internal listeners) against the same two hops
//       over loopback TCP (FrontProxy:EmbeddedTransport Loopback), plain YARP with the same routes (this program's
//       `plain-yarp` mode: two hops, and one), nginx and haproxy (../shared/bench/peers.sh); HTTP/1.1 (h2load --h1)
//       and h2c req/s in one run, interleaved rounds. About 2.5 minutes.
//
//   dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- connect-memory [--tunnels 10000]
//       Memory per idle HTTP/1.1 CONNECT tunnel (CONNECT, 200, one byte echoed, then silence): the gateway (Protocols Auto,
//       a CONNECT route to an in-process echo on envoy-internal://echo, so it holds one socket per tunnel) runs in this
//       process, the clients in a child process (this program's connect-clients mode). Committed, RSS and VmData per
//       tunnel. Target: <= 8 KiB committed per tunnel.
//
//   CONNECT throughput and tunnels/s beside squid and tinyproxy: bash eng/bench-connect.sh (the TcpTunnel sample's L2).
//
// Figures on a shared or 2-core machine drift 20-40% between runs: compare only ratios measured within one run.
using BenchmarkDotNet.Running;
using Yarp.Tunnels.Benchmarks.Connect;
using Yarp.Tunnels.Benchmarks.E2e;
using Yarp.Tunnels.Benchmarks.Micro;
using Yarp.Tunnels.Benchmarks.Tunneling;
using Yarp.Tunnels.Benchmarks.WebSocket;

var mode = args.Length > 0 ? args[0] : "";
var rest = args.Length > 0 ? args[1..] : [];
switch (mode)
{
    case "micro":
        // Without a filter BenchmarkDotNet asks interactively which benchmarks to run; default to all of them.
        var microArgs = rest.Any(a => a is "--filter" or "-f") ? rest : [.. rest, "--filter", "*"];
        var summaries = BenchmarkSwitcher.FromTypes([typeof(InternalConnectBenchmarks), typeof(InternalTransferBenchmarks)])
            .Run(microArgs, MicroConfig.Create());
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    case "e2e":
        return await E2eRunner.RunAsync(rest);
    case "memory":
        return await MemoryRunner.RunAsync(rest);
    case "websocket":
        return await WebSocketRunner.RunAsync(rest);
    case "h2tunnel":
        return await Http2TunnelRunner.RunAsync(rest);
    case IdleTunnelMemory.ClientsMode:
        return await IdleTunnelMemory.RunClientsAsync(rest);
    case "connect-memory":
        return await ConnectMemoryRunner.RunAsync(rest);
    case ConnectClients.Mode:
        return await ConnectClients.RunAsync(rest);
    case ConnectMemoryRunner.GatewayMode:
        return await ConnectMemoryRunner.RunGatewayAsync(rest);
    case "h1tunnel-memory":
        return await Http1TunnelMemoryRunner.RunAsync(rest);
    case GatewayProcess.Mode:
        return await GatewayProcess.RunAsync(rest);
    case Yarp.Tunnels.Benchmarks.FrontProxy.PlainYarpProcess.Mode:
        return await Yarp.Tunnels.Benchmarks.FrontProxy.PlainYarpProcess.RunAsync(rest);
    default:
        Console.Error.WriteLine("usage: dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- micro [BenchmarkDotNet args]");
        Console.Error.WriteLine("       dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- e2e [--seconds 5] [--rounds 3] [--warmup 0.5] [--only bulk1,bulk4,conn,http]");
        Console.Error.WriteLine("       dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- memory [--idle 2000] [--stalled 20] [--buffer-kb 1024]");
        Console.Error.WriteLine("       dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- connect-memory [--tunnels 10000]");
        Console.Error.WriteLine("       dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- websocket [--messages 20000] [--seconds 6] [--rounds 3] [--connections 32] [--size 32] [--only h1-gateway,...] [--gateway-env NAME=VALUE]");
        Console.Error.WriteLine("       dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- h2tunnel [--tunnels 10000] [--seconds 4] [--warmup 5]");
        Console.Error.WriteLine("       dotnet run -c Release --project eng/Yarp.Tunnels.Benchmarks -- h1tunnel-memory [--tunnels 10000]");
        return 2;
}
