using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Yarp.Tunnels.Telemetry;

namespace FrontProxy;

/// <summary>
/// OpenTelemetry for one host of the topology: metrics from the Yarp.Tunnels meter and ASP.NET Core's (Kestrel,
/// hosting, HttpClient), traces of tunnels and forwarded requests, exported over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the SDK reads the other <c>OTEL_*</c> settings too).
/// </summary>
internal static class SampleTelemetry
{
    public static readonly string[] Meters =
        [TunnelStatistics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http"];

    public static readonly string[] ActivitySources = ["Yarp.Tunnels", "Yarp.ReverseProxy", "Microsoft.AspNetCore", "System.Net.Http"];

    /// <param name="builder">The host's builder.</param>
    /// <param name="serviceName">The OpenTelemetry <c>service.name</c> of the host.</param>
    /// <param name="traces">
    /// Whether this host exports traces: activity sources are process-wide, so only one host of a process (the main
    /// one) subscribes, or every span would be exported once per host.
    /// </param>
    /// <param name="configure">More exporters or readers (tests add in-memory ones).</param>
    /// <returns>The SDK's builder, or null when nothing would export: neither an OTLP endpoint nor <paramref name="configure"/>.</returns>
    /// <remarks>
    /// With nothing to export to the SDK is not wired at all: it would create and sample every request's spans and
    /// aggregate every measurement only to drop them, a cost on every request for no output.
    /// </remarks>
    public static OpenTelemetryBuilder? Add(WebApplicationBuilder builder, string serviceName, bool traces, Action<OpenTelemetryBuilder>? configure = null)
    {
        var otlp = !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (!otlp && configure is null)
        {
            return null;
        }
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics => metrics.AddMeter(Meters));
        // Meters from an IMeterFactory are per host, but the SDK listens to meters by name across the process: drop
        // the other hosts' instruments (the package README's recipe for hosts sharing a process).
        builder.Services.ConfigureOpenTelemetryMeterProvider((services, metrics) =>
        {
            var ownFactory = services.GetRequiredService<IMeterFactory>();
            metrics.AddView(instrument => instrument.Meter.Scope is IMeterFactory scope && !ReferenceEquals(scope, ownFactory)
                ? MetricStreamConfiguration.Drop
                : null);
        });
        if (traces)
        {
            telemetry.WithTracing(tracing => tracing.AddSource(ActivitySources));
        }
        if (otlp)
        {
            telemetry.UseOtlpExporter();
        }
        configure?.Invoke(telemetry);
        return telemetry;
    }
}
