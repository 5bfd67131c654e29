using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace Yarp.Tunnels.Connect;

/// <summary>Options of the <c>Proxy-Authorization: Basic</c> scheme (RFC 9110 §11.7.2, RFC 7617).</summary>
public sealed class ProxyBasicAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>The realm named in <c>Proxy-Authenticate</c>; default <c>yarp-tunnels</c>.</summary>
    public string Realm { get; set; } = "yarp-tunnels";

    /// <summary>Checks a user name and password; required. The authenticated principal carries the user name as its name claim.</summary>
    public Func<string, string, HttpContext, ValueTask<bool>>? ValidateCredentials { get; set; }

    /// <summary>Checks that <see cref="ValidateCredentials"/> is set and <see cref="Realm"/> can be quoted.</summary>
    public override void Validate()
    {
        base.Validate();
        if (ValidateCredentials is null)
        {
            throw new InvalidOperationException($"{nameof(ProxyBasicAuthenticationOptions)}.{nameof(ValidateCredentials)} is required.");
        }
        if (Realm.Contains('"', StringComparison.Ordinal) || Realm.Contains('\\', StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{nameof(ProxyBasicAuthenticationOptions)}.{nameof(Realm)} must not contain quotes or backslashes.");
        }
    }
}
