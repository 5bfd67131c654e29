using System.Text;
using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Connect;

/// <summary>The answers of the CONNECT step that are not a tunnel: a status, a <c>Proxy-Status</c> and a one-line reason.</summary>
internal static class ConnectResponses
{
    public static Task WriteErrorAsync(HttpContext context, int statusCode, string? proxyStatusError, string details,
        IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        if (!HttpProtocol.IsHttp2(context.Request.Protocol) && !HttpProtocol.IsHttp3(context.Request.Protocol))
        {
            // Bytes the client sent for the tunnel must never be parsed as another request.
            response.Headers.Connection = "close";
        }
        var safe = details.Replace('"', '\'').Replace('\\', '/');
        if (proxyStatusError is not null)
        {
            response.Headers[ProxyStatus.HeaderName] = ProxyStatus.Format(proxyStatusError, safe);
        }
        foreach (var (name, value) in headers ?? [])
        {
            response.Headers.Append(name, value);
        }
        var body = Encoding.UTF8.GetBytes(safe + "\n");
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
