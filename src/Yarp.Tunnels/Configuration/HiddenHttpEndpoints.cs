using System.Collections.Concurrent;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// This host's hidden HTTP endpoints, one per <see cref="HttpProfile"/>. Every HTTP listener (socket or internal) hands
/// the connections it accepts to the endpoint of its protocols, so listeners come and go without rebinding Kestrel.
/// Kestrel binds them from the reloading listener projection as <c>http://pipe:/NAME</c> URLs that
/// <see cref="HiddenEndpointTransport"/> claims, so a host that starts with no listeners can gain HTTP listeners later.
/// </summary>
internal sealed class HiddenHttpEndpoints
{
    private const string NamePrefix = "yarp-tunnels.";

    private readonly ConcurrentDictionary<HttpProfile, TaskCompletionSource<IInternalConnectionAcceptor>> _bound = new();

    public HiddenHttpEndpoints()
    {
        // Distinguishes this host's endpoints in a registry shared by several hosts.
        HostId = Guid.NewGuid().ToString("N")[..12];
        foreach (var profile in HttpProfile.All)
        {
            _bound[profile] = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public string HostId { get; }

    /// <summary>The internal listener name (and pipe name in Kestrel's configuration) of a profile's endpoint.</summary>
    public string Name(HttpProfile profile) => $"{NamePrefix}{HostId}.{profile.Key}";

    public bool TryGetProfile(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HttpProfile? profile)
    {
        profile = HttpProfile.All.FirstOrDefault(p => string.Equals(Name(p), name, StringComparison.Ordinal));
        return profile is not null;
    }

    /// <summary>Completes with the profile's acceptor once Kestrel has bound its endpoint.</summary>
    public Task<IInternalConnectionAcceptor> WhenBound(HttpProfile profile) => _bound[profile].Task;

    public bool TryGetAcceptor(HttpProfile profile, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IInternalConnectionAcceptor? acceptor)
    {
        var bound = _bound[profile].Task;
        acceptor = bound.IsCompletedSuccessfully ? bound.Result : null;
        return acceptor is not null;
    }

    public void OnBound(HttpProfile profile, IInternalConnectionAcceptor acceptor)
    {
        if (!_bound[profile].TrySetResult(acceptor))
        {
            // Rebound (Kestrel reloaded the endpoint): later connections go to the new listener.
            var rebound = new TaskCompletionSource<IInternalConnectionAcceptor>(TaskCreationOptions.RunContinuationsAsynchronously);
            rebound.SetResult(acceptor);
            _bound[profile] = rebound;
        }
    }
}
