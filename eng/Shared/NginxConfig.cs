using System.Globalization;

/// <summary>
/// An nginx.conf for a reverse proxy on 127.0.0.1 that keeps everything (pid, log, temp files) in one directory, so a
/// test or benchmark needs no root paths. Linked into the functional tests and the benchmarks.
/// </summary>
internal static class NginxConfig
{
    /// <param name="directory">Where nginx keeps its pid, error log and temp files.</param>
    /// <param name="port">The port it listens on (127.0.0.1).</param>
    /// <param name="processes">The process directives, e.g. <c>worker_processes auto;</c>.</param>
    /// <param name="workerConnections">Connections per worker.</param>
    /// <param name="server">The <c>server</c> block's directives after <c>listen</c> (locations and all).</param>
    public static string Proxy(string directory, int port, string processes, int workerConnections, string server) =>
        string.Create(CultureInfo.InvariantCulture, $$"""
            daemon off;
            {{processes}}
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            events { worker_connections {{workerConnections}}; }
            http {
                access_log off;
                client_body_temp_path {{directory}}/body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                server {
                    listen 127.0.0.1:{{port}};
            {{server}}
                }
            }
            """);
}
