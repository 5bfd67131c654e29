using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;
using Yarp.ReverseProxy.Model;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// Keeps requests inside decapsulated CONNECT tunnels and requests from outside apart: an inner request (its connection
/// carries a <see cref="DecapsulatedTunnel"/>) matches only YARP routes whose metadata
/// <see cref="MetadataKey"/> names its CONNECT route (or is <c>*</c>); every other request never matches those routes.
/// Other endpoints never serve inner requests, so a tunnel reaches exactly the routes declared for it.
/// </summary>
internal sealed class DecapsulatedRouteMatcherPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    /// <summary>Route metadata: a comma-separated list of CONNECT route ids whose decapsulated tunnels the route serves, or <c>*</c> for all.</summary>
    public const string MetadataKey = "Connect.DecapsulatedBy";

    // After YARP's own policies: it only removes candidates.
    public override int Order => int.MaxValue - 100;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => endpoints.Count > 0;

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var tunnel = httpContext.Features.Get<DecapsulatedTunnel>();
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!candidates.IsValidCandidate(i))
            {
                continue;
            }
            var routes = candidates[i].Endpoint?.Metadata.GetMetadata<RouteModel>()?.Config.Metadata?.GetValueOrDefault(MetadataKey);
            var valid = tunnel is null ? routes is null : routes is not null && Accepts(routes, tunnel.RouteId);
            if (!valid)
            {
                candidates.SetValidity(i, false);
            }
        }
        return Task.CompletedTask;
    }

    private static bool Accepts(string routes, string routeId)
    {
        foreach (var range in routes.AsSpan().Split(','))
        {
            var entry = routes.AsSpan(range).Trim();
            if (entry is "*" || entry.Equals(routeId, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}
