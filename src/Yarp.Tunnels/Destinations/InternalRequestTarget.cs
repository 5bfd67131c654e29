using System.Net.Http;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Destinations;

/// <summary>
/// Which destination of which cluster an outgoing request is for, and the downstream state it carries;
/// attached to <see cref="HttpRequestMessage.Options"/> by the request transform and the health probe factory.
/// </summary>
internal sealed record InternalRequestTarget(
    string ClusterId,
    IReadOnlyDictionary<string, string>? ClusterMetadata,
    string? DestinationId,
    IReadOnlyDictionary<string, string>? DestinationMetadata,
    IReadOnlyDictionary<string, SharedState>? State)
{
    public static readonly HttpRequestOptionsKey<InternalRequestTarget> OptionsKey = new("Yarp.Tunnels.InternalRequestTarget");
}
