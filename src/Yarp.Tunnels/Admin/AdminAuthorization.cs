using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Yarp.Tunnels.Admin;

/// <summary>Applies <c>Admin:AuthorizationPolicy</c> to admin requests, as the authorization middleware applies a policy to an endpoint.</summary>
internal static class AdminAuthorization
{
    /// <summary>Checks that the policy can be evaluated: authorization services registered and, when known at once, the policy defined.</summary>
    public static void Validate(string policy, IServiceProvider services, IList<string> errors)
    {
        if (services.GetService<IAuthorizationPolicyProvider>() is not { } provider || services.GetService<IPolicyEvaluator>() is null)
        {
            errors.Add($"Admin: AuthorizationPolicy '{policy}' needs the authorization services: call services.AddAuthorization(…) and define the policy.");
            return;
        }
        var lookup = provider.GetPolicyAsync(policy);
        if (lookup.IsCompletedSuccessfully && lookup.Result is null)
        {
            errors.Add($"Admin: AuthorizationPolicy '{policy}' is not a defined authorization policy.");
        }
    }

    /// <summary>Authenticates and authorizes the request; answers the challenge (401) or forbid (403) and returns false when it is refused.</summary>
    public static async Task<bool> AuthorizeAsync(HttpContext context, string policyName)
    {
        var services = context.RequestServices;
        var policy = await services.GetRequiredService<IAuthorizationPolicyProvider>().GetPolicyAsync(policyName).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Admin: AuthorizationPolicy '{policyName}' is not a defined authorization policy.");
        var evaluator = services.GetRequiredService<IPolicyEvaluator>();
        var authentication = await evaluator.AuthenticateAsync(policy, context).ConfigureAwait(false);
        var result = await evaluator.AuthorizeAsync(policy, authentication, context, resource: context).ConfigureAwait(false);
        if (result.Succeeded)
        {
            return true;
        }
        if (services.GetService<IAuthenticationService>() is null)
        {
            // No authentication handlers to answer: the status alone says it.
            context.Response.StatusCode = result.Challenged ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden;
        }
        else if (result.Challenged)
        {
            await ForEachScheme(policy, context, static (c, s) => c.ChallengeAsync(s)).ConfigureAwait(false);
        }
        else
        {
            await ForEachScheme(policy, context, static (c, s) => c.ForbidAsync(s)).ConfigureAwait(false);
        }
        return false;
    }

    private static async Task ForEachScheme(AuthorizationPolicy policy, HttpContext context, Func<HttpContext, string?, Task> act)
    {
        if (policy.AuthenticationSchemes.Count == 0)
        {
            await act(context, null).ConfigureAwait(false);
            return;
        }
        foreach (var scheme in policy.AuthenticationSchemes)
        {
            await act(context, scheme).ConfigureAwait(false);
        }
    }
}
