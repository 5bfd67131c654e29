using System.Net.Sockets;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// A socket taken from Kestrel (<see cref="ISocketDetachFeature"/>) and the bytes it had received that Kestrel did not
/// read: <see cref="Early"/> (pooled, <c>null</c> when none) holds them at [0, <see cref="EarlyCount"/>).
/// </summary>
internal readonly record struct DetachedSocket(Socket Socket, byte[]? Early, int EarlyCount);
