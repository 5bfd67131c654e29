using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// Authenticates <c>Proxy-Authorization: Basic</c> (a proxy's credentials, not the origin's <c>Authorization</c>) and
/// challenges with <c>407 Proxy Authentication Required</c> and <c>Proxy-Authenticate: Basic realm="…"</c>.
/// </summary>
internal sealed class ProxyBasicAuthenticationHandler(IOptionsMonitor<ProxyBasicAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<ProxyBasicAuthenticationOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers[HeaderNames.ProxyAuthorization].ToString();
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
        }
        catch (FormatException)
        {
            return AuthenticateResult.Fail("Proxy-Authorization is not valid base64.");
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return AuthenticateResult.Fail("Proxy-Authorization has no user:password pair.");
        }
        var user = decoded[..colon];
        if (!await Options.ValidateCredentials!(user, decoded[(colon + 1)..], Context).ConfigureAwait(false))
        {
            return AuthenticateResult.Fail("Invalid proxy credentials.");
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user)], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status407ProxyAuthenticationRequired;
        Response.Headers[HeaderNames.ProxyAuthenticate] = $"Basic realm=\"{Options.Realm}\", charset=\"UTF-8\"";
        return Task.CompletedTask;
    }
}
