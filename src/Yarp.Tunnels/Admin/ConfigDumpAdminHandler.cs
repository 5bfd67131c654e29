using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Yarp.ReverseProxy;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.Admin;

/// <summary>
/// <c>GET /config_dump</c>: the effective configuration as JSON, secrets redacted (<see cref="ConfigRedactor"/>):
/// <c>reverse_proxy</c> (the <c>ReverseProxy</c> section as it reads now, every feature's keys included),
/// <c>listeners</c> (the validated listeners that run, code-declared and admin included, with their state and bound
/// addresses), and YARP's <c>routes</c> and <c>clusters</c> as it applies them (from any config provider).
/// </summary>
internal sealed class ConfigDumpAdminHandler(TunnelsConfigurationSource source, ListenerManager listeners, IServiceProvider services)
{
    private static readonly JsonSerializerOptions SerializerOptions = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public Task HandleAsync(HttpContext context)
    {
        var dump = new JsonObject
        {
            ["reverse_proxy"] = source.ReverseProxy is { } section ? ToJson(section) : null,
            ["listeners"] = Listeners(),
        };
        if (services.GetService(typeof(IProxyStateLookup)) is IProxyStateLookup proxy)
        {
            dump["routes"] = JsonSerializer.SerializeToNode(proxy.GetRoutes().Select(static r => r.Config).OrderBy(static r => r.RouteId, StringComparer.Ordinal), SerializerOptions);
            dump["clusters"] = JsonSerializer.SerializeToNode(proxy.GetClusters().Select(static c => c.Model.Config).OrderBy(static c => c.ClusterId, StringComparer.Ordinal), SerializerOptions);
        }
        ConfigRedactor.Redact(dump);
        return AdminResponses.WriteAsync(context, StatusCodes.Status200OK, AdminResponses.JsonContentType,
            dump.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private JsonArray Listeners()
    {
        var states = listeners.GetListeners().ToLookup(static s => s.Name, StringComparer.OrdinalIgnoreCase);
        var result = new JsonArray();
        foreach (var spec in listeners.EnsureValidated().OrderBy(static s => s.Name, StringComparer.OrdinalIgnoreCase))
        {
            var config = spec.Config;
            var status = states[spec.Name].FirstOrDefault(static s => s.State != ListenerState.Draining) ?? states[spec.Name].FirstOrDefault();
            var listener = new JsonObject
            {
                ["name"] = spec.Name,
                ["address"] = config.Address,
                ["kind"] = spec.Kind.ToString(),
                ["admin"] = spec.IsAdmin,
                ["state"] = status?.State.ToString(),
                ["bound_addresses"] = new JsonArray([.. (status?.BoundEndPoints ?? []).Select(static e => (JsonNode?)e.ToString())]),
                ["drain_timeout"] = spec.DrainTimeout.ToString("c", CultureInfo.InvariantCulture),
            };
            if (config.TcpProxy is { } tcp)
            {
                listener["tcp_proxy"] = JsonSerializer.SerializeToNode(tcp, SerializerOptions);
            }
            else
            {
                listener["protocols"] = spec.Protocols.ToString();
                listener["stat_prefix"] = spec.StatPrefix;
            }
            if (config.BufferSizeKb is { } buffer)
            {
                listener["buffer_size_kb"] = buffer;
            }
            if (config.Certificate is { } certificate)
            {
                listener["certificate"] = JsonSerializer.SerializeToNode(certificate, SerializerOptions);
            }
            result.Add(listener);
        }
        return result;
    }

    /// <summary>A configuration section as JSON: objects for sections, arrays for sections keyed 0..n-1, strings for values.</summary>
    private static JsonNode? ToJson(IConfiguration section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            return section is IConfigurationSection { Value: { } value } ? JsonValue.Create(value) : new JsonObject();
        }
        if (children.Select((c, i) => c.Key == i.ToString(CultureInfo.InvariantCulture)).All(static b => b))
        {
            return new JsonArray([.. children.Select(ToJson)]);
        }
        var obj = new JsonObject();
        foreach (var child in children)
        {
            obj[child.Key] = ToJson(child);
        }
        return obj;
    }
}
