namespace Yarp.Tunnels.Configuration;

/// <summary>Starts the listeners of one <see cref="ListenerKind"/>; <see cref="ListenerManager"/> only diffs and orders.</summary>
internal interface IListenerHandler
{
    ListenerKind Kind { get; }

    /// <summary>Binds <paramref name="spec"/>; throws when it cannot be bound.</summary>
    ValueTask<IActiveListener> StartAsync(ListenerSpec spec, CancellationToken cancellationToken);
}
