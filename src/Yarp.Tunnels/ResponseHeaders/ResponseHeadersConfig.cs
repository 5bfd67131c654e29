namespace Yarp.Tunnels.ResponseHeaders;

/// <summary>The validated <c>ReverseProxy:ResponseHeaders</c> block.</summary>
/// <param name="ServerName">The <c>Server</c> value the gateway sets, or null when the block names none.</param>
/// <param name="ServerTransformation">How <paramref name="ServerName"/> combines with the upstream's header.</param>
/// <param name="UpstreamServiceTimeHeader">The header carrying the upstream's time to response headers in ms, or null for none.</param>
internal sealed record ResponseHeadersConfig(string? ServerName, ServerHeaderTransformation ServerTransformation, string? UpstreamServiceTimeHeader)
{
    public static ResponseHeadersConfig None { get; } = new(null, ServerHeaderTransformation.Overwrite, null);

    /// <summary>Whether the gateway owns the <c>Server</c> header (and Kestrel's own is off).</summary>
    public bool ControlsServerHeader => ServerName is not null || ServerTransformation != ServerHeaderTransformation.Overwrite;
}
