using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// One hidden HTTP endpoint: Kestrel binds it from the projection as <c>http://pipe:/PIPE</c> (claimed by
/// <see cref="HiddenEndpointTransport"/>) and serves, with <see cref="Profile"/>, the connections listeners hand to it.
/// </summary>
internal sealed class HiddenHttpEndpoint(string key, string pipeName, HttpProfile profile)
{
    private volatile TaskCompletionSource<IInternalConnectionAcceptor> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Its name in the projection's <c>Endpoints</c> section (after the <c>ReverseProxy_</c> prefix).</summary>
    public string Key { get; } = key;

    public string PipeName { get; } = pipeName;

    public HttpProfile Profile { get; } = profile;

    /// <summary>Completes with the endpoint's acceptor once Kestrel has bound it.</summary>
    public Task<IInternalConnectionAcceptor> Bound => _bound.Task;

    public bool TryGetAcceptor(out IInternalConnectionAcceptor? acceptor)
    {
        var bound = _bound.Task;
        acceptor = bound.IsCompletedSuccessfully ? bound.Result : null;
        return acceptor is not null;
    }

    public void OnBound(IInternalConnectionAcceptor acceptor)
    {
        if (!_bound.TrySetResult(acceptor))
        {
            // Rebound (Kestrel reloaded the endpoint): later connections go to the new listener.
            var rebound = new TaskCompletionSource<IInternalConnectionAcceptor>(TaskCreationOptions.RunContinuationsAsynchronously);
            rebound.SetResult(acceptor);
            _bound = rebound;
        }
    }
}
