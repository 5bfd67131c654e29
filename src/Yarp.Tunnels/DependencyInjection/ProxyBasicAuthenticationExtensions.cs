using Microsoft.AspNetCore.Authentication;
using Yarp.Tunnels.Connect;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the <c>Proxy-Authorization: Basic</c> scheme for CONNECT routes' <c>Policy:AuthorizationPolicy</c>.</summary>
public static class ProxyBasicAuthenticationExtensions
{
    /// <summary>
    /// Adds the scheme <see cref="ProxyBasicDefaults.AuthenticationScheme"/>: it reads
    /// <c>Proxy-Authorization: Basic</c> and challenges with 407 and <c>Proxy-Authenticate</c>. Name it in the
    /// authorization policy a CONNECT route uses (<c>policy.AddAuthenticationSchemes("ProxyBasic")</c>).
    /// </summary>
    public static AuthenticationBuilder AddProxyBasic(this AuthenticationBuilder builder, Action<ProxyBasicAuthenticationOptions> configure) =>
        builder.AddProxyBasic(ProxyBasicDefaults.AuthenticationScheme, configure);

    /// <summary>Adds the <c>Proxy-Authorization: Basic</c> scheme under the name <paramref name="scheme"/>.</summary>
    public static AuthenticationBuilder AddProxyBasic(this AuthenticationBuilder builder, string scheme, Action<ProxyBasicAuthenticationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        return builder.AddScheme<ProxyBasicAuthenticationOptions, ProxyBasicAuthenticationHandler>(scheme, configure);
    }
}
