namespace Yarp.Tunnels.InternalListeners;

internal sealed class InternalConnectionInfo : IInternalConnectionFeature
{
    private static readonly IReadOnlyDictionary<string, string> _noMetadata = new Dictionary<string, string>();
    private static readonly IReadOnlyDictionary<string, SharedState> _noState = new Dictionary<string, SharedState>();

    public InternalConnectionInfo(string listenerName, InternalConnectOptions? options)
    {
        ListenerName = listenerName;
        EndpointId = options?.EndpointId;
        Metadata = options?.Metadata ?? _noMetadata;
        State = options?.State ?? _noState;
    }

    public string ListenerName { get; }

    public string? EndpointId { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public IReadOnlyDictionary<string, SharedState> State { get; }
}
