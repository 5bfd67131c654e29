using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.Connect;

/// <summary>Reads the target of a CONNECT (or of an <c>AllowPost</c> POST) and finds what makes a CONNECT malformed.</summary>
internal static class ConnectRequest
{
    /// <summary>
    /// The CONNECT authority: the HTTP/1.x request target (authority-form; an HTTP/1.0 CONNECT may have no <c>Host</c>)
    /// or HTTP/2 <c>:authority</c>; for a POST its <c>Host</c>, with the scheme's port when it names none.
    /// </summary>
    public static string? AuthorityOf(HttpContext context, bool isPost)
    {
        var request = context.Request;
        if (isPost)
        {
            var host = request.Host;
            return !host.HasValue ? null : host.Port is null ? $"{host.Host}:{(request.IsHttps ? 443 : 80)}" : host.Value;
        }
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        return HttpMethods.IsConnect(request.Method) && !string.IsNullOrEmpty(rawTarget) && !rawTarget.StartsWith('/') ? rawTarget : request.Host.Value;
    }

    /// <summary>Why an HTTP/1.x CONNECT is malformed (a body: RFC 9110 §9.3.6), or null.</summary>
    public static string? FindProblem(HttpContext context)
    {
        var headers = context.Request.Headers;
        if (HttpProtocol.IsHttp2(context.Request.Protocol) || HttpProtocol.IsHttp3(context.Request.Protocol))
        {
            return null;
        }
        return headers.TransferEncoding.Count > 0 ? "a CONNECT request must not carry Transfer-Encoding"
            : headers.ContentLength is not null ? "a CONNECT request must not carry Content-Length"
            : null;
    }
}
