namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// A per-connection item that is passed to internal connections opened on behalf of the connection that holds it.
/// Put it in the downstream connection's items (<c>ConnectionContext.Items</c> or <c>IConnectionItemsFeature</c>);
/// the internal connection exposes it through <see cref="IInternalConnectionFeature.State"/>.
/// </summary>
/// <remarks>
/// Pooled upstream connections are shared only between equal state: records compare by <see cref="Value"/>'s
/// <see cref="object.Equals(object)"/> and <see cref="object.GetHashCode"/> (and <see cref="Sharing"/>), so values of a
/// class without an override share connections only when they are the same object, and equal records, strings or
/// numbers share them. A value must not change its equality while connections are open on its behalf.
/// </remarks>
/// <param name="Value">The value; its equality keys connection reuse.</param>
/// <param name="Sharing">Whether the item stops at the first hop or travels through the whole chain.</param>
public sealed record SharedState(object Value, StateSharing Sharing);
