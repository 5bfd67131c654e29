using System.Globalization;
using System.Text;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// Renders statistics in the Prometheus text exposition format 0.0.4 (served as
/// <c>text/plain; version=0.0.4; charset=utf-8</c>), named as Envoy's <c>/stats/prometheus</c> does:
/// <c>envoy_{family}_{metric}</c>, with the object name as a label (<c>envoy_cluster_name</c>,
/// <c>envoy_listener_address</c>, <c>envoy_tcp_prefix</c>, <c>envoy_http_conn_manager_prefix</c>) and every tag as a
/// label of its own (<c>upgrade_type</c>, <c>envoy_response_code</c>), so names containing <c>.</c> and tagged series
/// stay apart. One <c># HELP</c> and <c># TYPE</c> per metric; histograms as cumulative <c>_bucket{le=…}</c>,
/// <c>_sum</c> and <c>_count</c>.
/// </summary>
internal static class PrometheusStatsRenderer
{
    public static string Render(IEnumerable<StatSample> samples)
    {
        var text = new StringBuilder();
        var metrics = samples
            .GroupBy(static s => MetricName(s.Family, s.Metric), StringComparer.Ordinal)
            .OrderBy(static g => g.Key, StringComparer.Ordinal);
        foreach (var metric in metrics)
        {
            var first = metric.First();
            text.Append("# HELP ").Append(metric.Key).Append(' ').Append(EscapeHelp(first.Description)).Append('\n');
            text.Append("# TYPE ").Append(metric.Key).Append(' ').Append(first.Kind.ToString().ToLowerInvariant()).Append('\n');
            foreach (var sample in metric)
            {
                var labels = Labels(sample);
                if (sample.Histogram is not { } histogram)
                {
                    Line(text, metric.Key, labels, sample.Value.ToString(CultureInfo.InvariantCulture));
                    continue;
                }

                long cumulative = 0;
                for (var i = 0; i < histogram.BucketCounts.Count; i++)
                {
                    cumulative += histogram.BucketCounts[i];
                    var le = i < histogram.BucketBounds.Count ? Number(histogram.BucketBounds[i]) : "+Inf";
                    Line(text, metric.Key + "_bucket", $"{labels},le=\"{le}\"", cumulative.ToString(CultureInfo.InvariantCulture));
                }
                Line(text, metric.Key + "_sum", labels, Number(histogram.Sum));
                Line(text, metric.Key + "_count", labels, histogram.Count.ToString(CultureInfo.InvariantCulture));
            }
        }
        return text.ToString();
    }

    /// <summary>The label that carries the object name of <paramref name="family"/>, as Envoy's tag extraction names it.</summary>
    private static string ObjectLabel(string family) => family switch
    {
        StatNames.ClusterFamily => "envoy_cluster_name",
        StatNames.ListenerFamily => "envoy_listener_address",
        StatNames.TcpFamily => "envoy_tcp_prefix",
        StatNames.HttpFamily => "envoy_http_conn_manager_prefix",
        _ => $"envoy_{Sanitize(family)}_name",
    };

    private static string MetricName(string family, string stat) => Sanitize($"envoy_{family}_{stat}");

    private static string Labels(StatSample sample)
    {
        var labels = new StringBuilder();
        labels.Append(ObjectLabel(sample.Family)).Append("=\"").Append(EscapeLabel(sample.Name)).Append('"');
        foreach (var (key, value) in sample.Tags)
        {
            labels.Append(',').Append(key).Append("=\"").Append(EscapeLabel(value)).Append('"');
        }
        return labels.ToString();
    }

    private static void Line(StringBuilder text, string name, string labels, string value) =>
        text.Append(name).Append('{').Append(labels).Append("} ").Append(value).Append('\n');

    /// <summary>A metric name keeps <c>[a-zA-Z0-9_:]</c>; anything else (a <c>.</c> in a stat name) becomes <c>_</c>.</summary>
    private static string Sanitize(string name) =>
        string.Create(name.Length, name, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var c = source[i];
                span[i] = char.IsAsciiLetterOrDigit(c) || c is '_' or ':' ? c : '_';
            }
        });

    private static string EscapeLabel(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private static string EscapeHelp(string value) => value.Replace("\\", "\\\\").Replace("\n", "\\n");

    private static string Number(double value) => double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);
}
