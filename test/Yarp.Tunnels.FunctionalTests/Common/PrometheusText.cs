using System.Text;
using System.Text.Json;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>Parses Prometheus text with an independent parser: Debian's python3-prometheus-client (<c>text_string_to_metric_families</c>).</summary>
internal static class PrometheusText
{
    /// <summary>Parses Prometheus text from stdin with prometheus_client and prints the families as JSON.</summary>
    private const string Parser = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        families = [{"name": f.name, "type": f.type, "help": f.documentation,
                     "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
                    for f in text_string_to_metric_families(sys.stdin.read())]
        print(json.dumps(families))
        """;

    /// <summary>
    /// The metric families prometheus_client reads from <paramref name="text"/>, by family name; fails the test if it
    /// cannot parse it. prometheus_client names a counter family without its <c>_total</c> suffix, so Envoy's
    /// <c>envoy_cluster_upstream_rq_total</c> and <c>envoy_cluster_upstream_rq{envoy_response_code=…}</c> share a name.
    /// </summary>
    public static async Task<ILookup<string, JsonElement>> ParseAsync(string text)
    {
        var result = await ToolProcess.RunAsync("/usr/bin/python3", ["-c", Parser], Encoding.UTF8.GetBytes(text));
        Assert.True(result.ExitCode == 0, $"prometheus_client could not parse the rendering (install python3-prometheus-client): {result}\n{text}");
        using var parsed = JsonDocument.Parse(result.Stdout);
        return parsed.RootElement.Clone().EnumerateArray().ToLookup(f => f.GetProperty("name").GetString()!);
    }

    /// <summary>The one family named <paramref name="name"/> whose samples carry <paramref name="label"/> (any, when null).</summary>
    public static JsonElement Family(ILookup<string, JsonElement> families, string name, string? label = null) =>
        Assert.Single(families[name], f => label is null || f.GetProperty("samples").EnumerateArray().All(s => s.GetProperty("labels").TryGetProperty(label, out _)));

    /// <summary>The samples of a family of <paramref name="type"/> (which must have a help text).</summary>
    public static List<(string Name, Dictionary<string, string> Labels, double Value)> Samples(JsonElement family, string type)
    {
        Assert.Equal(type, family.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(family.GetProperty("help").GetString()));
        return [.. family.GetProperty("samples").EnumerateArray().Select(s => (
            s.GetProperty("name").GetString()!,
            s.GetProperty("labels").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!),
            s.GetProperty("value").GetDouble()))];
    }
}
