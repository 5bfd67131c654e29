namespace Yarp.Tunnels.ResponseHeaders;

/// <summary>What the gateway does with a response's <c>Server</c> header (Envoy's <c>server_header_transformation</c>).</summary>
internal enum ServerHeaderTransformation
{
    /// <summary>Always sets <c>Server</c> to the configured name, replacing the upstream's.</summary>
    Overwrite,

    /// <summary>Keeps the upstream's <c>Server</c> header; sets the configured name only when the response has none.</summary>
    AppendIfAbsent,

    /// <summary>Passes the upstream's <c>Server</c> header through and never adds one.</summary>
    PassThrough,
}
