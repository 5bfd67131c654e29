using System.Diagnostics;
using FrontProxy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>
/// The FrontProxy sample's OpenTelemetry wiring (<see cref="SampleTelemetry"/>) on a front and a sidecar sharing one
/// process, as in the sample, each with OpenTelemetry's in-memory exporter: each host exports its own Yarp.Tunnels
/// and ASP.NET Core series only, and the front traces every hop of the forwarded requests.
/// </summary>
public class FrontProxyTelemetryTests
{
    private const int Requests = 3;

    [Fact]
    public async Task FrontAndSidecarInOneProcess_EachExportsOnlyItsOwnSeries_FrontTracesBothHops()
    {
        var registry = new InternalListenerRegistry();
        var sidecarName = "otel-sidecar";
        var frontMetrics = new List<MetricSnapshot>();
        var sidecarMetrics = new List<MetricSnapshot>();
        var spans = new List<Activity>();

        await using var sidecar = await TestHost.StartAsync(b =>
        {
            var section = Section(b, new()
            {
                ["Listeners:ingress:Address"] = $"envoy-internal://{sidecarName}",
                ["Listeners:ingress:Protocols"] = "Http2",
            });
            b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, registry);
            SampleTelemetry.Add(b, "sidecar", traces: false, t => t.WithMetrics(m => m.AddInMemoryExporter(sidecarMetrics)));
        }, app => app.MapGet("/service/1", (HttpContext c) => "hello from the sidecar"));

        await using var front = await TestHost.StartAsync(b =>
        {
            var section = Section(b, new()
            {
                ["Listeners:front:Address"] = "tcp://127.0.0.1:0",
                ["Routes:service1:ClusterId"] = "service1",
                ["Routes:service1:Match:Path"] = "/service/1",
                ["Clusters:service1:HttpRequest:Version"] = "2",
                ["Clusters:service1:HttpRequest:VersionPolicy"] = "RequestVersionExact",
                ["Clusters:service1:Destinations:service1-1:Address"] = $"envoy-internal://{sidecarName}",
            });
            b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, registry);
            SampleTelemetry.Add(b, "front-proxy", traces: true, t => t
                .WithMetrics(m => m.AddInMemoryExporter(frontMetrics))
                .WithTracing(tracing => tracing.AddInMemoryExporter(spans)));
        }, app => app.MapTunnelsReverseProxy());

        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{front.ListenerPort("front")}"), Timeout = TestHost.Timeout };
        // Activity sources are process-wide, so other tests' spans reach this tracer too: each request starts its own
        // trace (traceparent), and only those traces count.
        var traces = new List<ActivityTraceId>();
        for (var i = 0; i < Requests; i++)
        {
            var traceId = ActivityTraceId.CreateRandom();
            traces.Add(traceId);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/service/1");
            request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
            using var response = await client.SendAsync(request);
            Assert.Equal("hello from the sidecar", await response.Content.ReadAsStringAsync());
        }
        Assert.True(front.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000));
        Assert.True(sidecar.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000));
        Assert.True(front.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));

        // Yarp.Tunnels instruments, each host with its own objects: the sidecar's internal listener is the sidecar's.
        Assert.Contains(frontMetrics, m => m.MeterName == "Yarp.Tunnels" && m.Name.StartsWith("yarp.tunnels.", StringComparison.Ordinal));
        Assert.Equal(Requests, Sum(frontMetrics, "yarp.tunnels.cluster.upstream_rq_total", "cluster", "service1"));
        Assert.Equal(1, Sum(sidecarMetrics, "yarp.tunnels.listener.downstream_cx_total", "listener", $"envoy_internal_{sidecarName}"));
        Assert.DoesNotContain(frontMetrics, m => Points(m).Any(p => HasTag(p, "listener", $"envoy_internal_{sidecarName}")));
        Assert.DoesNotContain(sidecarMetrics, m => Points(m).Any(p => HasTag(p, "cluster", "service1")));

        // ASP.NET Core's own meters too, per host: each host saw exactly the requests it served.
        Assert.Equal(Requests, RequestCount(frontMetrics));
        Assert.Equal(Requests, RequestCount(sidecarMetrics));

        // Traces: each request is one trace with the front's server span, YARP's forwarder span and the sidecar's server span.
        foreach (var traceId in traces)
        {
            var trace = spans.Where(s => s.TraceId == traceId).ToList();
            Assert.Single(trace, s => s.Source.Name == "Yarp.ReverseProxy" && s.OperationName == "proxy.forwarder");
            Assert.Equal(2, trace.Count(s => s.Source.Name == "Microsoft.AspNetCore" && s.Kind == ActivityKind.Server));
        }
    }

    [Fact]
    public async Task Sample_OtlpEndpointSet_ExportsEveryHostsMetricsAndTheTracesOverOtlp()
    {
        var received = new System.Collections.Concurrent.ConcurrentQueue<(string Signal, byte[] Body)>();
        await using var collector = await TestHost.StartAsync(b => b.ListenLoopback(), app => app.MapPost("/v1/{signal}", async (HttpContext c, string signal) =>
        {
            using var body = new MemoryStream();
            await c.Request.Body.CopyToAsync(body, c.RequestAborted);
            received.Enqueue((signal, body.ToArray()));
            // An empty Export*ServiceResponse: success.
            c.Response.ContentType = "application/x-protobuf";
        }));
        using var sample = FrontProxySample.Start(FrontProxySample.EphemeralPorts, new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = TestHost.Address(collector).ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        });
        var port = await FrontProxySample.WaitForListenerAsync(sample, "front_http");
        await FrontProxySample.GetGreetingsAsync(port, ["/service/1", "/service/2"]);

        // OTLP is protobuf: names and attribute values travel as UTF-8 strings, so the bytes show what was exported.
        string[] metrics = ["front-proxy", "sidecar-service1-1", "yarp.tunnels.cluster.upstream_rq_total", "http.server.request.duration"];
        string[] traces = ["proxy.forwarder", "Yarp.ReverseProxy", "Microsoft.AspNetCore"];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(Exported(received, "metrics", metrics) && Exported(received, "traces", traces)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"OTLP export incomplete: {received.Count} posts ({string.Join(", ", received.Select(r => r.Signal).Distinct())}).{Environment.NewLine}{sample.Output}");
            await Task.Delay(100);
        }
    }

    private static bool Exported(IEnumerable<(string Signal, byte[] Body)> received, string signal, string[] texts)
    {
        var bodies = received.Where(r => r.Signal == signal).Select(r => System.Text.Encoding.UTF8.GetString(r.Body)).ToList();
        return texts.All(text => bodies.Any(body => body.Contains(text, StringComparison.Ordinal)));
    }

    private static IConfigurationSection Section(WebApplicationBuilder builder, Dictionary<string, string?> values)
    {
        builder.Configuration.AddInMemoryCollection(values.Select(kv => KeyValuePair.Create("ReverseProxy:" + kv.Key, kv.Value)));
        return builder.Configuration.GetSection("ReverseProxy");
    }

    private static long RequestCount(List<MetricSnapshot> metrics) =>
        metrics.LastOrDefault(m => m.Name == "http.server.request.duration")?.MetricPoints.Sum(p => p.GetHistogramCount()) ?? 0;

    private static long Sum(List<MetricSnapshot> metrics, string name, string tag, string value)
    {
        var points = metrics.Where(m => m.Name == name).SelectMany(Points).Where(p => HasTag(p, tag, value)).ToList();
        Assert.True(points.Count > 0, $"no {name} {{{tag}={value}}} among: {string.Join(", ", metrics.Select(m => m.Name).Distinct().Order())}");
        // The exporter keeps a snapshot per collection (cumulative): the last one has the total.
        return points[^1].GetSumLong();
    }

    private static bool HasTag(MetricPoint point, string key, string value)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key && Equals(tag.Value, value))
            {
                return true;
            }
        }
        return false;
    }

    private static IReadOnlyList<MetricPoint> Points(MetricSnapshot metric) => metric.MetricPoints;
}
