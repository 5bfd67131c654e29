using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Admin;

/// <summary>
/// <c>GET /listeners</c>: every listener (internal ones and the admin's included) with its bound addresses (port 0
/// resolved); text as Envoy's (<c>name::address</c> per bound address, or the configured address while not bound), or <c>?format=json</c> as Envoy's
/// <c>listener_statuses</c> (<c>socket_address</c>, or <c>envoy_internal_address</c> for an internal listener) with the
/// state, the configured address and any bind error.
/// </summary>
internal sealed class ListenersAdminHandler(IListenerStateProvider listeners)
{
    public Task HandleAsync(HttpContext context)
    {
        var statuses = listeners.GetListeners();
        if (context.Request.Query["format"] == "json")
        {
            return AdminResponses.JsonAsync(context, json => WriteJson(json, statuses));
        }
        var text = new StringBuilder();
        foreach (var status in statuses)
        {
            var addresses = status.BoundEndPoints.Count > 0 ? status.BoundEndPoints.Select(Format) : [status.Address];
            foreach (var address in addresses)
            {
                text.Append(status.Name).Append("::").Append(address).Append('\n');
            }
        }
        return AdminResponses.TextAsync(context, StatusCodes.Status200OK, text.ToString());
    }

    private static void WriteJson(Utf8JsonWriter json, IReadOnlyList<ListenerStatus> statuses)
    {
        json.WriteStartObject();
        json.WriteStartArray("listener_statuses");
        foreach (var status in statuses)
        {
            json.WriteStartObject();
            json.WriteString("name", status.Name);
            json.WriteString("state", status.State.ToString().ToUpperInvariant());
            json.WriteString("configured_address", status.Address);
            if (status.BoundEndPoints.Count > 0)
            {
                json.WritePropertyName("local_address");
                WriteAddress(json, status.BoundEndPoints[0]);
                json.WriteStartArray("additional_local_addresses");
                foreach (var endPoint in status.BoundEndPoints.Skip(1))
                {
                    WriteAddress(json, endPoint);
                }
                json.WriteEndArray();
            }
            if (status.Error is { } error)
            {
                json.WriteString("error", error.Message);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteAddress(Utf8JsonWriter json, EndPoint endPoint)
    {
        json.WriteStartObject();
        switch (endPoint)
        {
            case IPEndPoint ip:
                json.WriteStartObject("socket_address");
                json.WriteString("address", ip.Address.ToString());
                json.WriteNumber("port_value", ip.Port);
                json.WriteEndObject();
                break;
            case InternalEndPoint inner:
                json.WriteStartObject("envoy_internal_address");
                json.WriteString("server_listener_name", inner.Name);
                json.WriteEndObject();
                break;
            default:
                json.WriteString("address", endPoint.ToString());
                break;
        }
        json.WriteEndObject();
    }

    private static string Format(EndPoint endPoint) => endPoint.ToString() ?? "";
}
