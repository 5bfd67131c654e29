using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>Where a <see cref="TcpRelay"/> counts bytes; a null counter is not counted.</summary>
/// <param name="DownstreamReceived">Bytes read from downstream, counted on receipt (<c>tcp.*.downstream_cx_rx_bytes_total</c>).</param>
/// <param name="DownstreamSent">Bytes handed to downstream (<c>tcp.*.downstream_cx_tx_bytes_total</c>).</param>
/// <param name="UpstreamReceived">Bytes read from upstream, counted on receipt (<c>cluster.*.upstream_cx_rx_bytes_total</c>).</param>
/// <param name="UpstreamSent">Bytes handed to upstream (<c>cluster.*.upstream_cx_tx_bytes_total</c>).</param>
/// <param name="DownstreamReadingPaused">Times reading from downstream paused because the upstream was full (<c>tcp.*.downstream_flow_control_paused_reading_total</c>).</param>
/// <param name="DownstreamReadingResumed">Times it resumed (<c>tcp.*.downstream_flow_control_resumed_reading_total</c>).</param>
/// <param name="UpstreamFlush">Connections whose downstream finished while bytes it sent still waited to be written upstream (<c>tcp.*.upstream_flush_total</c>).</param>
internal sealed record RelayCounters(StatCounter? DownstreamReceived, StatCounter? DownstreamSent, StatCounter? UpstreamReceived, StatCounter? UpstreamSent,
    StatCounter? DownstreamReadingPaused = null, StatCounter? DownstreamReadingResumed = null, StatCounter? UpstreamFlush = null);
