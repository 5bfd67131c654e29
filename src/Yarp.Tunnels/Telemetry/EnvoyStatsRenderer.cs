using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// Renders statistics as Envoy's admin <c>/stats</c> does: flat names (tagged series summed), as <c>name: value</c> text
/// lines or as <c>/stats?format=json</c>. Histograms show Envoy's quantiles of the cumulative values; the interval value
/// is <c>nan</c> (<c>null</c> in JSON) because there are no flush intervals here.
/// </summary>
internal static class EnvoyStatsRenderer
{
    /// <summary>Envoy's supported quantiles, in percent.</summary>
    private static readonly double[] Quantiles = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100];

    /// <summary>One <c>name: value</c> line per counter and gauge, sorted, then one line per histogram; LF line endings.</summary>
    public static string RenderText(IEnumerable<StatSample> samples)
    {
        var flat = FlatStat.Aggregate(samples);
        var text = new StringBuilder();
        foreach (var stat in flat.Where(static s => s.Histogram is null))
        {
            text.Append(stat.Name).Append(": ").Append(stat.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        foreach (var stat in flat.Where(static s => s.Histogram is not null))
        {
            text.Append(stat.Name).Append(": ");
            if (stat.Histogram!.Count == 0)
            {
                text.Append("No recorded values");
            }
            else
            {
                text.AppendJoin(' ', Quantiles.Select(q => $"P{Format(q)}(nan,{Format(stat.Histogram.Quantile(q / 100))})"));
            }
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// <c>{"stats":[{"name":…,"value":…},…]}</c>, with the histograms as Envoy's last element
    /// <c>{"histograms":{"supported_quantiles":[…],"computed_quantiles":[{"name":…,"values":[{"interval":null,"cumulative":…}]}]}}</c>.
    /// </summary>
    public static string RenderJson(IEnumerable<StatSample> samples)
    {
        var flat = FlatStat.Aggregate(samples);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("stats");
            foreach (var stat in flat.Where(static s => s.Histogram is null))
            {
                json.WriteStartObject();
                json.WriteString("name", stat.Name);
                json.WriteNumber("value", stat.Value);
                json.WriteEndObject();
            }

            var histograms = flat.Where(static s => s.Histogram is not null).ToList();
            if (histograms.Count > 0)
            {
                json.WriteStartObject();
                json.WriteStartObject("histograms");
                json.WriteStartArray("supported_quantiles");
                foreach (var quantile in Quantiles)
                {
                    json.WriteNumberValue(quantile);
                }
                json.WriteEndArray();
                json.WriteStartArray("computed_quantiles");
                foreach (var stat in histograms)
                {
                    json.WriteStartObject();
                    json.WriteString("name", stat.Name);
                    json.WriteStartArray("values");
                    foreach (var quantile in Quantiles)
                    {
                        json.WriteStartObject();
                        json.WriteNull("interval");
                        if (stat.Histogram!.Count == 0)
                        {
                            json.WriteNull("cumulative");
                        }
                        else
                        {
                            json.WriteNumber("cumulative", Math.Round(stat.Histogram.Quantile(quantile / 100), 4));
                        }
                        json.WriteEndObject();
                    }
                    json.WriteEndArray();
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Format(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
