using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Yarp.Tunnels.Benchmarks.E2e;

namespace Yarp.Tunnels.Benchmarks.WebSocket;

/// <summary>nginx as a WebSocket reverse proxy on loopback, from a temporary config (the usual Upgrade/Connection recipe).</summary>
internal sealed class Nginx : IAsyncDisposable
{
    public const string InstallHint = "nginx is required for the WebSocket benchmark's peer row (Debian/Ubuntu: apt-get install nginx).";

    private readonly Process _process;
    private readonly string _directory;

    private Nginx(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>CPU time nginx's master and worker processes have used so far (user + system, from /proc).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            long ticks = 0;
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(directory), out _))
                {
                    continue;
                }
                string stat;
                try
                {
                    stat = File.ReadAllText(Path.Combine(directory, "stat"));
                }
                catch (IOException)
                {
                    continue;
                }
                catch (UnauthorizedAccessException)
                {
                    continue;
                }
                // Fields after the ")" that ends the command name: state ppid ... utime (14th field) stime (15th).
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var pid = int.Parse(Path.GetFileName(directory), CultureInfo.InvariantCulture);
                var ppid = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (pid == _process.Id || ppid == _process.Id)
                {
                    ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                }
            }
            // USER_HZ is 100 on Linux.
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
    }

    public static string? Find() => new[] { "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists);

    public static async Task<Nginx> StartAsync(string nginx, int backendPort)
    {
        var port = Hosts.FreePort();
        var directory = Directory.CreateTempSubdirectory("yarp-tunnels-ws-nginx-").FullName;
        var config = NginxConfig.Proxy(directory, port, "worker_processes auto;", 4096, $$"""
                    location / {
                        proxy_pass http://127.0.0.1:{{backendPort}};
                        proxy_http_version 1.1;
                        proxy_set_header Upgrade $http_upgrade;
                        proxy_set_header Connection "upgrade";
                        proxy_set_header Host $host;
                        proxy_read_timeout 1h;
                    }
            """);
        var path = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(path, config);
        var info = new ProcessStartInfo(nginx) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "-p", directory, "-c", path })
        {
            info.ArgumentList.Add(argument);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("nginx did not start.");
        var result = new Nginx(process, directory, port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (process.HasExited)
            {
                var error = await process.StandardError.ReadToEndAsync();
                await result.DisposeAsync();
                throw new InvalidOperationException($"nginx exited ({process.ExitCode}): {error}");
            }
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return result;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
