namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>The limits and timers of the HTTP/2 client's connections.</summary>
internal sealed record Http2ClientOptions
{
    /// <summary>HTTP/2's initial window, the least a stream window may be (a peer may use it before it sees our SETTINGS).</summary>
    public const int DefaultWindow = 65_535;

    /// <summary>Each stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE): the most a stream buffers.</summary>
    public int StreamReceiveWindow { get; init; } = 256 * 1024;

    /// <summary>
    /// The connection's receive window. It is credited back as DATA arrives, not as streams consume it (each stream is
    /// bounded by its own window), so one stalled stream cannot starve the others.
    /// </summary>
    public int ConnectionReceiveWindow { get; init; } = 4 * 1024 * 1024;

    /// <summary>The SETTINGS_MAX_FRAME_SIZE this side accepts; a longer frame is a FRAME_SIZE_ERROR.</summary>
    public int MaxFrameSize { get; init; } = Http2FrameHeader.MinMaxFrameSize;

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE: bounds a decoded header list and the encoded block (HEADERS plus CONTINUATIONs).</summary>
    public int MaxHeaderListSize { get; init; } = 64 * 1024;

    /// <summary>The dynamic table size this side's decoder allows (SETTINGS_HEADER_TABLE_SIZE).</summary>
    public int HeaderTableSize { get; init; } = HpackEncoder.DefaultTableSize;

    /// <summary>After this long without a frame from the peer a PING is sent; without its ACK one more interval later the connection closes. Zero disables.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The most SETTINGS and PING frames the peer may send per second; more is a flood (ENHANCE_YOUR_CALM).</summary>
    public int MaxControlFramesPerSecond { get; init; } = 100;
}
