using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// Connection middleware for <c>Protocols: Auto</c> on a cleartext endpoint served as HTTP/1.1 (Envoy's
/// <c>codec_type: AUTO</c>): a connection that opens with the HTTP/2 preface is served, bytes untouched, by Kestrel's
/// HTTP/2 connection handler; any other connection continues as HTTP/1.1.
/// </summary>
/// <remarks>
/// The HTTP/2 handler is the one Kestrel built for the host's HTTP/2 endpoint, run on this same connection: it keeps the
/// one set of Kestrel connection features (heartbeat, lifetime notification, completion) and is counted once against
/// <see cref="KestrelServerLimits.MaxConcurrentConnections"/>, by the endpoint the client connected to.
/// Until the protocol is known the sniffer obeys Kestrel's limits, read per connection from the host's
/// <see cref="KestrelServerOptions"/>: silence ends at <see cref="KestrelServerLimits.KeepAliveTimeout"/>, a partial
/// preface at <see cref="KestrelServerLimits.RequestHeadersTimeout"/> after its first byte (as a partial HTTP/1.1
/// request), and a server stop or endpoint removal ends it at once.
/// </remarks>
internal sealed partial class ProtocolSniffer(KestrelServerOptions kestrel, TimeProvider timeProvider, ILogger<ProtocolSniffer> logger)
{
    private static readonly byte[] _preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    /// <summary>The longest due time a timer takes; a limit beyond it (or infinite) never fires.</summary>
    private static readonly TimeSpan _maxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private ConnectionDelegate? _http2;

    private enum Outcome
    {
        Http1,
        Http2,
        Closed,
    }

    /// <summary>
    /// Installed as the last middleware of the host's HTTP/2 endpoint: remembers Kestrel's HTTP/2 connection handler
    /// (what follows it) and leaves that endpoint's own pipeline unchanged.
    /// </summary>
    public ConnectionDelegate CaptureHttp2(ConnectionDelegate next)
    {
        Volatile.Write(ref _http2, next);
        return next;
    }

    /// <summary>Installed on an <c>Auto</c> endpoint.</summary>
    public ConnectionDelegate Use(ConnectionDelegate next) => async connection =>
    {
        switch (await SniffAsync(connection).ConfigureAwait(false))
        {
            case Outcome.Http1:
                await next(connection).ConfigureAwait(false);
                break;
            case Outcome.Http2 when Volatile.Read(ref _http2) is { } http2:
                await http2(connection).ConfigureAwait(false);
                break;
            case Outcome.Http2:
                Log.Http2HandlerMissing(logger, connection.ConnectionId);
                break;
        }
        // Closed: returning ends the connection, as Kestrel's own timeouts do (a FIN, no response).
    };

    private async ValueTask<Outcome> SniffAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var limits = kestrel.Limits;
        using var stop = new CancellationTokenSource();
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        using var closingRegistration = closing.UnsafeRegister(static state => Cancel(state), stop);
        var timer = StartTimer(limits.KeepAliveTimeout, stop);
        var partial = false;
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await input.ReadAsync(stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    var reason = closing.IsCancellationRequested ? "the server is stopping or the endpoint was removed"
                        : partial ? $"the HTTP/2 preface was not complete within the request headers timeout ({limits.RequestHeadersTimeout})"
                        : $"no bytes arrived within the keep-alive timeout ({limits.KeepAliveTimeout})";
                    Log.SniffingEnded(logger, connection.ConnectionId, reason);
                    return Outcome.Closed;
                }
                catch (Exception ex) when (ex is IOException or ConnectionAbortedException)
                {
                    // The client reset or the connection was aborted before saying anything.
                    Log.SniffingEnded(logger, connection.ConnectionId, ex.Message);
                    return Outcome.Closed;
                }

                var buffer = result.Buffer;
                var length = (int)Math.Min(buffer.Length, _preface.Length);
                var matches = MatchesPreface(buffer.Slice(0, length));
                if (!matches || length == _preface.Length || result.IsCompleted || result.IsCanceled)
                {
                    // Consume nothing and mark nothing examined: the next reader sees the same bytes at once.
                    input.AdvanceTo(buffer.Start, buffer.Start);
                    return matches && length == _preface.Length ? Outcome.Http2 : Outcome.Http1;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (!partial && length > 0)
                {
                    // Like Kestrel's HTTP/1.1 parser: from the first byte on, the request-headers timeout applies instead.
                    partial = true;
                    timer?.Dispose();
                    timer = StartTimer(limits.RequestHeadersTimeout, stop);
                }
            }
        }
        finally
        {
            timer?.Dispose();
        }
    }

    private ITimer? StartTimer(TimeSpan timeout, CancellationTokenSource stop) => timeout >= _maxTimer
        ? null
        : timeProvider.CreateTimer(static state => Cancel(state), stop, timeout, Timeout.InfiniteTimeSpan);

    private static void Cancel(object? stop)
    {
        try
        {
            ((CancellationTokenSource)stop!).Cancel();
        }
        catch (ObjectDisposedException)
        {
            // A timer that fired while the sniffer was finishing.
        }
    }

    private static bool MatchesPreface(ReadOnlySequence<byte> head)
    {
        Span<byte> bytes = stackalloc byte[_preface.Length];
        head.CopyTo(bytes);
        return bytes[..(int)head.Length].SequenceEqual(_preface.AsSpan(0, (int)head.Length));
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.ProtocolSniffingEnded, LogLevel.Debug, "Connection {ConnectionId} on an Auto listener was closed before its protocol was known: {Reason}.", EventName = nameof(EventIds.ProtocolSniffingEnded))]
        public static partial void SniffingEnded(ILogger logger, string connectionId, string reason);

        [LoggerMessage(EventIds.ProtocolSniffingNoHttp2, LogLevel.Error, "Connection {ConnectionId} on an Auto listener opened with the HTTP/2 preface, but the host's HTTP/2 endpoint is not bound; the connection was closed.", EventName = nameof(EventIds.ProtocolSniffingNoHttp2))]
        public static partial void Http2HandlerMissing(ILogger logger, string connectionId);
    }
}
