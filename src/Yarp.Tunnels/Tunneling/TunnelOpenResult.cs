using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling;

/// <summary>
/// The outcome of <see cref="ITunnelOpener.OpenAsync"/>. Established: <paramref name="Stream"/> is not null; otherwise
/// <paramref name="Failure"/> says why (with <paramref name="Status"/> for a refusing answer).
/// </summary>
/// <param name="Stream">The tunnel: a <see cref="RelayEnd"/> whose bytes are the payload (ShutdownWrite = FIN/END_STREAM, Abort = reset), owned by the caller.</param>
/// <param name="Failure">Why the tunnel was not established; <see cref="TunnelFailure.None"/> when it was.</param>
/// <param name="Status">The upstream's response status, or 0 when none was received.</param>
/// <param name="Reason">For logs: the upstream's reason phrase or the transport error.</param>
/// <param name="ResponseHeaders">The response's headers (also of a refusing answer), in order; empty when none arrived.</param>
/// <param name="Trailers">Completes when the stream ends, with the response's trailers (empty if none).</param>
internal sealed record TunnelOpenResult(
    RelayEnd? Stream,
    TunnelFailure Failure,
    int Status,
    string? Reason,
    IReadOnlyList<KeyValuePair<string, string>> ResponseHeaders,
    Task<IReadOnlyList<KeyValuePair<string, string>>> Trailers)
{
    /// <summary>No headers or trailers.</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> NoHeaders = [];

    private static readonly Task<IReadOnlyList<KeyValuePair<string, string>>> NoTrailers = Task.FromResult(NoHeaders);

    /// <summary>A tunnel that was not established.</summary>
    public static TunnelOpenResult Failed(TunnelFailure failure, string reason, int status = 0, IReadOnlyList<KeyValuePair<string, string>>? headers = null) =>
        new(null, failure, status, reason, headers ?? NoHeaders, NoTrailers);
}
