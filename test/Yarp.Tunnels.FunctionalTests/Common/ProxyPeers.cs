using System.Globalization;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>
/// HTTP proxies no one here wrote, started on a free loopback port: squid (CONNECT), nghttpx (an HTTP/2 CONNECT proxy in
/// front of an HTTP/1.1 one) and nginx (a plain reverse proxy).
/// </summary>
internal sealed class ProxyPeers : IDisposable
{
    private readonly ToolProcess _process;
    private readonly string _directory;

    private ProxyPeers(ToolProcess process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string Address => $"tcp://127.0.0.1:{Port}";

    /// <summary>squid allowing CONNECT only to <paramref name="allowedPorts"/> (others get 403), as peers.sh configures it.</summary>
    /// <param name="allowedPorts">The CONNECT target ports allowed.</param>
    /// <param name="port">The port squid listens on (a sample's fixed port); a free one when null.</param>
    public static async Task<ProxyPeers> StartSquidAsync(IReadOnlyList<int> allowedPorts, int? port = null)
    {
        var squid = File.Exists("/usr/sbin/squid") ? "/usr/sbin/squid" : ToolProcess.Require("squid");
        port ??= FreePort.Get();
        var directory = NewDirectory("squid");
        File.WriteAllText(Path.Combine(directory, "squid.conf"), $"""
            http_port 127.0.0.1:{port}
            visible_hostname yarp-tunnels-tests
            acl localclient src 127.0.0.1/32
            acl tunnel_ports port {string.Join(' ', allowedPorts.Select(p => p.ToString(CultureInfo.InvariantCulture)))}
            acl CONNECT method CONNECT
            http_access deny CONNECT !tunnel_ports
            http_access allow localclient
            http_access deny all
            cache deny all
            cache_mem 8 MB
            memory_pools off
            pinger_enable off
            netdb_filename none
            client_db off
            access_log none
            cache_store_log none
            logfile_rotate 0
            cache_log {directory}/cache.log
            pid_filename {directory}/squid.pid
            coredump_dir {directory}
            shutdown_lifetime 0 seconds
            dns_nameservers 127.0.0.1
            """);
        return await StartAsync(squid, ["-N", "-f", Path.Combine(directory, "squid.conf")], directory, port.Value);
    }

    /// <summary>
    /// nghttpx in <c>--http2-proxy</c> mode on cleartext (h2c prior knowledge): it terminates classic HTTP/2 CONNECT
    /// streams and forwards each as an HTTP/1.1 CONNECT to the proxy on <paramref name="backendProxyPort"/> (e.g. squid).
    /// </summary>
    public static async Task<ProxyPeers> StartNghttpxAsync(int backendProxyPort)
    {
        var nghttpx = File.Exists("/usr/sbin/nghttpx") ? "/usr/sbin/nghttpx" : ToolProcess.Require("nghttpx");
        var port = FreePort.Get();
        var directory = NewDirectory("nghttpx");
        return await StartAsync(nghttpx, ["--conf=/dev/null", "--http2-proxy", $"--frontend=127.0.0.1,{port};no-tls",
            $"--backend=127.0.0.1,{backendProxyPort}", "--workers=1", "--no-ocsp", "--log-level=WARN",
            $"--pid-file={directory}/nghttpx.pid"], directory, port);
    }

    /// <summary>nginx proxying every request to <paramref name="upstreamPort"/> over HTTP/1.1, with request and response buffering off.</summary>
    public static async Task<ProxyPeers> StartNginxAsync(int upstreamPort)
    {
        var nginx = File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : ToolProcess.Require("nginx");
        var port = FreePort.Get();
        var directory = NewDirectory("nginx");
        File.WriteAllText(Path.Combine(directory, "nginx.conf"), NginxConfig.Proxy(directory, port, "master_process off;\nworker_processes 1;", 256, $$"""
                    client_max_body_size 0;
                    location / {
                        proxy_pass http://127.0.0.1:{{upstreamPort}};
                        proxy_http_version 1.1;
                        proxy_buffering off;
                        proxy_request_buffering off;
                        proxy_read_timeout 60s;
                    }
            """));
        return await StartAsync(nginx, ["-p", directory, "-c", Path.Combine(directory, "nginx.conf")], directory, port);
    }

    private static string NewDirectory(string name)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"yarp-tunnels-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        // squid drops to its own user; it must still write its log and pid there.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0x1FF);
        }
        return directory;
    }

    private static async Task<ProxyPeers> StartAsync(string tool, string[] arguments, string directory, int port)
    {
        var process = ToolProcess.StartBackground(tool, arguments);
        try
        {
            await FreePort.WaitAsync(port);
            return new ProxyPeers(process, directory, port);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
