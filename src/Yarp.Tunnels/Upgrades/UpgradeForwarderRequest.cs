using System.Net;
using System.Net.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Yarp.Tunnels.Upgrades;

/// <summary>How the gateway asks the backend for an upgrade.</summary>
internal enum UpgradeForwardingForm
{
    /// <summary>HTTP/1.1 <c>Connection: Upgrade</c> + <c>Upgrade: token</c>; the backend answers 101.</summary>
    Http1Upgrade,

    /// <summary>HTTP/2 extended CONNECT (RFC 8441) with <c>:protocol</c> = token; the backend answers 200.</summary>
    ExtendedConnect,
}

/// <summary>Builds the request the upgrade forwarder sends to the backend, for any upgrade token.</summary>
internal static class UpgradeForwarderRequest
{
    /// <summary>
    /// Carries a method other than GET across an HTTP/2 hop (extended CONNECT always says CONNECT); the HTTP/1.1 side that
    /// turns the extended CONNECT back into an Upgrade restores the method and drops the header.
    /// </summary>
    public const string MethodHeader = "x-yarp-tunnels-upgrade-method";

    private static readonly Version DefaultVersion = HttpVersion.Version20;
    private const HttpVersionPolicy DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower;

    /// <summary>
    /// Chooses the form from the cluster's <c>HttpRequest</c> version and policy exactly as YARP's forwarder does for a
    /// WebSocket: HTTP/2 exact or or-higher ⇒ extended CONNECT; an https destination that allows HTTP/2 and HTTP/1.1 ⇒
    /// extended CONNECT, retried as HTTP/1.1 if the backend has no extended CONNECT or no HTTP/2 (<paramref name="mayDowngrade"/>);
    /// anything else ⇒ HTTP/1.1 Upgrade, unless the policy forbids HTTP/1.1 (false).
    /// </summary>
    public static bool TryChooseForm(ForwarderRequestConfig? config, string destinationPrefix, out UpgradeForwardingForm form, out bool mayDowngrade)
    {
        var version = config?.Version ?? DefaultVersion;
        var policy = config?.VersionPolicy ?? DefaultVersionPolicy;
        var https = destinationPrefix.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        var http1Allowed = policy == HttpVersionPolicy.RequestVersionOrLower || version.Major == 1;
        (form, mayDowngrade) = (version.Major, policy, https) switch
        {
            (2, HttpVersionPolicy.RequestVersionExact or HttpVersionPolicy.RequestVersionOrHigher, _) => (UpgradeForwardingForm.ExtendedConnect, false),
            (1, HttpVersionPolicy.RequestVersionOrHigher, true)
                or (2, HttpVersionPolicy.RequestVersionOrLower, true)
                or (3, HttpVersionPolicy.RequestVersionOrLower, true) => (UpgradeForwardingForm.ExtendedConnect, http1Allowed),
            _ => (UpgradeForwardingForm.Http1Upgrade, false),
        };
        return form == UpgradeForwardingForm.ExtendedConnect || http1Allowed;
    }

    /// <summary>
    /// Creates the request: YARP's route transforms apply (headers, path and query, X-Forwarded-*, the envoy-internal
    /// target), then the upgrade headers of <paramref name="form"/> replace the ones YARP strips. Returns null when a
    /// transform wrote a response instead.
    /// </summary>
    public static async ValueTask<HttpRequestMessage?> CreateAsync(HttpContext context, IUpgradeRequestFeature upgrade, UpgradeForwardingForm form,
        string destinationPrefix, HttpTransformer transformer, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage();
        var method = OriginalMethod(context);
        try
        {
            await transformer.TransformRequestAsync(context, request, destinationPrefix, cancellationToken).ConfigureAwait(false);
            if (context.Response.StatusCode != StatusCodes.Status200OK || context.Response.HasStarted)
            {
                request.Dispose();
                return null;
            }
            request.RequestUri ??= RequestUtilities.MakeDestinationAddress(destinationPrefix, context.Request.Path, context.Request.QueryString);
            request.Headers.Remove(MethodHeader);
            // An upgrade request has no body (Kestrel does not treat an HTTP/1.1 request with one as upgradable), so a
            // content that only carries copied headers such as Content-Length: 0 is dropped (nghttp2 refuses it on CONNECT).
            // Without content, SocketsHttpHandler keeps an extended CONNECT's stream open and its response stream duplex.
            request.Content?.Dispose();
            request.Content = null;

            if (form == UpgradeForwardingForm.ExtendedConnect)
            {
                request.Method = HttpMethod.Connect;
                request.Version = HttpVersion.Version20;
                request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
                request.Headers.Protocol = upgrade.UpgradeType;
                if (!HttpMethods.IsGet(method))
                {
                    request.Headers.TryAddWithoutValidation(MethodHeader, method);
                }
            }
            else
            {
                request.Method = HttpMethod.Parse(method);
                request.Version = HttpVersion.Version11;
                request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
                request.Headers.TryAddWithoutValidation(HeaderNames.Connection, HeaderNames.Upgrade);
                request.Headers.TryAddWithoutValidation(HeaderNames.Upgrade, upgrade.Kind == UpgradeRequestKind.Http1Upgrade
                    ? context.Request.Headers.Upgrade.ToString()
                    : upgrade.UpgradeType);
            }
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The method the client meant: an HTTP/1.1 request's own; for an extended CONNECT, the one a previous hop carried
    /// in <see cref="MethodHeader"/> (GET when absent, as RFC 8441 implies, or when it is not a method a client may
    /// upgrade with).
    /// </summary>
    public static string OriginalMethod(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsConnect(request.Method))
        {
            return request.Method;
        }
        var carried = request.Headers[MethodHeader].ToString();
        return IsToken(carried) && !HttpMethods.IsConnect(carried) ? carried : HttpMethods.Get;
    }

    private static bool IsToken(string value)
    {
        if (value.Length is 0 or > 32)
        {
            return false;
        }
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                return false;
            }
        }
        return true;
    }
}
