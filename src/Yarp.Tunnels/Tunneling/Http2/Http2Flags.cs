namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>Frame flags (RFC 9113 §6); their meaning depends on the frame type.</summary>
internal static class Http2Flags
{
    public const byte None = 0x0;

    /// <summary>DATA, HEADERS: the last frame the sender sends on the stream.</summary>
    public const byte EndStream = 0x1;

    /// <summary>SETTINGS, PING: an acknowledgement.</summary>
    public const byte Ack = 0x1;

    /// <summary>HEADERS, CONTINUATION: the header block ends with this frame.</summary>
    public const byte EndHeaders = 0x4;

    /// <summary>DATA, HEADERS: a pad length octet and padding surround the payload.</summary>
    public const byte Padded = 0x8;

    /// <summary>HEADERS: stream dependency and weight precede the header block.</summary>
    public const byte Priority = 0x20;
}
