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
/// <remarks>
/// A node of the routing DFA (as the HTTP method policy): the split is computed when the routes change, and a request
/// only picks its branch, so the matcher keeps its single-candidate fast path (a candidate-set policy forces the slow
/// path on every request). Dynamic endpoints, which the DFA cannot split, are filtered per request instead.
/// </remarks>
internal sealed class DecapsulatedRouteMatcherPolicy : MatcherPolicy, INodeBuilderPolicy, IEndpointSelectorPolicy
{
    /// <summary>Route metadata: a comma-separated list of CONNECT route ids whose decapsulated tunnels the route serves, or <c>*</c> for all.</summary>
    public const string MetadataKey = "Connect.DecapsulatedBy";

    // Edge states besides the CONNECT route ids named in metadata.
    private static readonly object Outside = new();
    private static readonly object OtherTunnel = new();

    // After YARP's own policies: it only removes candidates.
    public override int Order => int.MaxValue - 100;

    bool INodeBuilderPolicy.AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => endpoints.Count > 0 && !ContainsDynamicEndpoints(endpoints);

    bool IEndpointSelectorPolicy.AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => ContainsDynamicEndpoints(endpoints);

    public IReadOnlyList<PolicyNodeEdge> GetEdges(IReadOnlyList<Endpoint> endpoints)
    {
        var outside = new List<Endpoint>();
        var everyTunnel = new List<Endpoint>();
        var byRoute = new Dictionary<string, List<Endpoint>>(StringComparer.OrdinalIgnoreCase);
        foreach (var endpoint in endpoints)
        {
            if (RoutesOf(endpoint) is not { } routes)
            {
                outside.Add(endpoint);
                continue;
            }
            foreach (var range in routes.AsSpan().Split(','))
            {
                var entry = routes.AsSpan(range).Trim();
                if (entry is "*")
                {
                    everyTunnel.Add(endpoint);
                }
                else if (entry.Length > 0)
                {
                    var list = byRoute.GetValueOrDefault(entry.ToString()) ?? (byRoute[entry.ToString()] = []);
                    if (!list.Contains(endpoint))
                    {
                        list.Add(endpoint);
                    }
                }
            }
        }

        var edges = new List<PolicyNodeEdge>();
        if (outside.Count > 0)
        {
            edges.Add(new PolicyNodeEdge(Outside, outside));
        }
        foreach (var (routeId, list) in byRoute)
        {
            // A named route's tunnels also reach the '*' routes; keep the endpoints in their original order.
            var accepted = endpoints.Where(e => list.Contains(e) || everyTunnel.Contains(e)).ToList();
            edges.Add(new PolicyNodeEdge(routeId, accepted));
        }
        if (everyTunnel.Count > 0)
        {
            edges.Add(new PolicyNodeEdge(OtherTunnel, everyTunnel.Distinct().ToList()));
        }
        return edges;
    }

    public PolicyJumpTable BuildJumpTable(int exitDestination, IReadOnlyList<PolicyJumpTableEdge> edges)
    {
        var outside = exitDestination;
        var otherTunnel = exitDestination;
        var byRoute = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var edge in edges)
        {
            if (ReferenceEquals(edge.State, Outside))
            {
                outside = edge.Destination;
            }
            else if (ReferenceEquals(edge.State, OtherTunnel))
            {
                otherTunnel = edge.Destination;
            }
            else
            {
                byRoute[(string)edge.State] = edge.Destination;
            }
        }
        return new JumpTable(outside, otherTunnel, byRoute);
    }

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var tunnel = httpContext.Features.Get<DecapsulatedTunnel>();
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!candidates.IsValidCandidate(i))
            {
                continue;
            }
            var routes = RoutesOf(candidates[i].Endpoint);
            var valid = tunnel is null ? routes is null : routes is not null && Accepts(routes, tunnel.RouteId);
            if (!valid)
            {
                candidates.SetValidity(i, false);
            }
        }
        return Task.CompletedTask;
    }

    private static string? RoutesOf(Endpoint? endpoint) =>
        endpoint?.Metadata.GetMetadata<RouteModel>()?.Config.Metadata?.GetValueOrDefault(MetadataKey);

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

    private sealed class JumpTable(int outside, int otherTunnel, Dictionary<string, int> byRoute) : PolicyJumpTable
    {
        public override int GetDestination(HttpContext httpContext) =>
            httpContext.Features.Get<DecapsulatedTunnel>() is not { } tunnel ? outside
            : byRoute.TryGetValue(tunnel.RouteId, out var destination) ? destination
            : otherTunnel;
    }
}
