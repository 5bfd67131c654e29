using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// Picks the state a downstream connection hands to the internal connections opened on its behalf:
/// its own <see cref="SharedState"/> items, plus the <see cref="StateSharing.Transitive"/> state it received itself.
/// </summary>
internal static class SharedStateCollector
{
    public static IReadOnlyDictionary<string, SharedState>? Collect(IFeatureCollection? connectionFeatures)
    {
        if (connectionFeatures is null)
        {
            return null;
        }

        Dictionary<string, SharedState>? state = null;
        if (connectionFeatures.Get<IInternalConnectionFeature>() is { } inbound)
        {
            foreach (var (key, value) in inbound.State)
            {
                if (value.Sharing == StateSharing.Transitive)
                {
                    (state ??= new(StringComparer.Ordinal))[key] = value;
                }
            }
        }

        if (connectionFeatures.Get<IConnectionItemsFeature>()?.Items is { Count: > 0 } items)
        {
            foreach (var (key, value) in items)
            {
                if (key is string name && value is SharedState shared)
                {
                    (state ??= new(StringComparer.Ordinal))[name] = shared;
                }
            }
        }

        return state;
    }
}
