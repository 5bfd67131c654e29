namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>The final (non-1xx) response headers of a stream.</summary>
internal sealed record Http2Response(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers);
