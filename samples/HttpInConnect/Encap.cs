namespace HttpInConnect;

/// <summary>The encapsulating half: <c>encap.json</c> (HTTP on 10000 → envoy-internal://encap → HTTP/2 CONNECT host.com:443 to 10001).</summary>
internal static class Encap
{
    public const string RoleFile = "encap.json";
}
