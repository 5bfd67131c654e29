namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// A stream ended before its response: RST_STREAM with <see cref="Code"/> from the peer, a GOAWAY that did not cover it
/// (<see cref="Http2ErrorCode.RefusedStream"/>, safe to retry on another connection), or our own reset (a malformed
/// response, a cancelled opening).
/// </summary>
internal sealed class Http2StreamException(Http2ErrorCode code, string message, bool byPeer) : Exception(message)
{
    public Http2ErrorCode Code { get; } = code;

    /// <summary>The peer ended the stream (RST_STREAM or GOAWAY); false when this side reset it.</summary>
    public bool ByPeer { get; } = byPeer;
}
