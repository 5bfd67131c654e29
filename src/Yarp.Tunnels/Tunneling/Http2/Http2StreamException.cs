namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// A stream ended by the peer before its response: RST_STREAM with <see cref="Code"/>, or a GOAWAY that did not cover
/// it (<see cref="Http2ErrorCode.RefusedStream"/>, safe to retry on another connection).
/// </summary>
internal sealed class Http2StreamException(Http2ErrorCode code, string message) : Exception(message)
{
    public Http2ErrorCode Code { get; } = code;
}
