// Envoy's front-proxy sandbox (seed 003) in one process, or as separate processes with --role:
//   front   127.0.0.1:8080 (HTTP/1.1 + h2c) and 127.0.0.1:8443 (HTTPS, ALPN h2 + http/1.1), /service/1 and /service/2
//     -> one sidecar gateway per service replica (h2c over internal listeners: envoy-internal://service1-1, …)
//        -> its service replica (HTTP/1.1 over an internal listener), which says hello with its replica name.
// SERVICE1_REPLICAS=3 (or FrontProxy:Services:service1:Replicas, live) scales service1 like `docker compose scale`.
using FrontProxy;

try
{
    await using var topology = await Topology.StartAsync(args);
    await topology.WaitForShutdownAsync();
    return 0;
}
catch (Exception ex) when (ex is not OperationCanceledException)
{
    // One line naming the problem: start-up input errors are the user's to fix, not a stack trace to read.
    Console.Error.WriteLine(StartupFailure.Describe(ex));
    return 1;
}
