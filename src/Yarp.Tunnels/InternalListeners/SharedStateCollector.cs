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

    /// <summary>
    /// A stable fingerprint of the state, so pooled connections are never shared across different state. It spells the
    /// state out (length-prefixed, so it is unambiguous) rather than hashing it: equal fingerprints must mean equal state,
    /// or a hash collision would hand one downstream connection's state to another's upstream requests.
    /// </summary>
    public static string Fingerprint(IReadOnlyDictionary<string, SharedState>? state)
    {
        if (state is null || state.Count == 0)
        {
            return "";
        }
        var fingerprint = new System.Text.StringBuilder();
        foreach (var key in state.Keys.Order(StringComparer.Ordinal))
        {
            var item = state[key];
            var value = item.Value.ToString() ?? "";
            fingerprint.Append(key.Length).Append(':').Append(key)
                .Append(value.Length).Append(':').Append(value)
                .Append((int)item.Sharing).Append(';');
        }
        return fingerprint.ToString();
    }
}
