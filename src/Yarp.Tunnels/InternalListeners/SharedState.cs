namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// A per-connection item that is passed to internal connections opened on behalf of the connection that holds it.
/// Put it in the downstream connection's items (<c>ConnectionContext.Items</c> or <c>IConnectionItemsFeature</c>);
/// the internal connection exposes it through <see cref="IInternalConnectionFeature.State"/>.
/// </summary>
/// <param name="Value">The value; its <see cref="object.ToString"/> also keys connection reuse, so connections are never shared across different state.</param>
/// <param name="Sharing">Whether the item stops at the first hop or travels through the whole chain.</param>
public sealed record SharedState(object Value, StateSharing Sharing);
