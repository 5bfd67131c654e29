using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Admin;

/// <summary>The server's own endpoints: <c>/server_info</c>, <c>/ready</c> and the mutations <c>/healthcheck/fail|ok</c>, <c>/drain_listeners</c>, <c>/reset_counters</c>.</summary>
internal sealed partial class ServerAdminHandler(AdminServerState state, ListenerManager listeners, TunnelMetrics metrics, IHostEnvironment environment,
    ILogger<ServerAdminHandler> logger)
{
    private static readonly string Version =
        $"{typeof(ServerAdminHandler).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown"}/Yarp.Tunnels/{RuntimeInformation.FrameworkDescription}";

    /// <summary>Envoy's <c>server_info</c>: version, state, command-line options (secrets redacted) and uptime.</summary>
    public Task ServerInfoAsync(HttpContext context) => AdminResponses.JsonAsync(context, json =>
    {
        json.WriteStartObject();
        json.WriteString("version", Version);
        json.WriteString("state", state.State);
        json.WriteStartObject("command_line_options");
        json.WriteStartArray("args");
        foreach (var arg in ConfigRedactor.RedactArguments(Environment.GetCommandLineArgs().Skip(1)))
        {
            json.WriteStringValue(arg);
        }
        json.WriteEndArray();
        json.WriteString("environment", environment.EnvironmentName);
        json.WriteString("application_name", environment.ApplicationName);
        json.WriteString("content_root", environment.ContentRootPath);
        json.WriteNumber("concurrency", Environment.ProcessorCount);
        json.WriteNumber("drain_time_s", (long)ListenerSpec.DefaultDrainTimeout.TotalSeconds);
        json.WriteEndObject();
        var uptime = ((long)state.Uptime.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
        json.WriteString("uptime_current_epoch", uptime);
        json.WriteString("uptime_all_epochs", uptime);
        json.WriteStartObject("node");
        json.WriteString("id", environment.ApplicationName);
        json.WriteString("hostname", Environment.MachineName);
        json.WriteEndObject();
        json.WriteEndObject();
    });

    /// <summary>Envoy's <c>/ready</c>: the state as the body, 200 only when <c>LIVE</c>.</summary>
    public Task ReadyAsync(HttpContext context)
    {
        var current = state.State;
        return AdminResponses.TextAsync(context, current == AdminServerState.Live ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, current + "\n");
    }

    public Task HealthCheckFailAsync(HttpContext context)
    {
        state.HealthCheckFailed = true;
        Log.HealthCheckFailed(logger);
        return AdminResponses.TextAsync(context, StatusCodes.Status200OK, "OK\n");
    }

    public Task HealthCheckOkAsync(HttpContext context)
    {
        state.HealthCheckFailed = false;
        Log.HealthCheckOk(logger);
        return AdminResponses.TextAsync(context, StatusCodes.Status200OK, "OK\n");
    }

    /// <summary>Stops every listener but the admin's from accepting (returns once they have), and lets them drain.</summary>
    public async Task DrainListenersAsync(HttpContext context)
    {
        Log.DrainingListeners(logger);
        await listeners.DrainListenersAsync().ConfigureAwait(false);
        await AdminResponses.TextAsync(context, StatusCodes.Status200OK, "OK\n").ConfigureAwait(false);
    }

    public Task ResetCountersAsync(HttpContext context)
    {
        metrics.ResetCounters();
        return AdminResponses.TextAsync(context, StatusCodes.Status200OK, "OK\n");
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.AdminHealthCheckFailed, LogLevel.Warning, "Admin: the health check was failed (/healthcheck/fail); /ready answers 503 DRAINING.")]
        public static partial void HealthCheckFailed(ILogger logger);

        [LoggerMessage(EventIds.AdminHealthCheckOk, LogLevel.Information, "Admin: the health check was restored (/healthcheck/ok).")]
        public static partial void HealthCheckOk(ILogger logger);

        [LoggerMessage(EventIds.AdminDrainingListeners, LogLevel.Warning, "Admin: draining every listener but the admin's (/drain_listeners).")]
        public static partial void DrainingListeners(ILogger logger);
    }
}
