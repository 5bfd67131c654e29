using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// Connection middleware for <c>Protocols: Auto</c> on a cleartext endpoint served as HTTP/1.1: a connection that opens
/// with the HTTP/2 preface is handed, bytes untouched, to the host's HTTP/2 internal endpoint; any other connection
/// continues as HTTP/1.1 (Envoy's <c>codec_type: AUTO</c>).
/// </summary>
internal sealed class ProtocolSniffer(InternalListenerRegistry registry, string http2ListenerName)
{
    private static readonly byte[] _preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    public ConnectionDelegate Use(ConnectionDelegate next) => async connection =>
    {
        if (!await StartsWithPrefaceAsync(connection).ConfigureAwait(false))
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        var handoff = new HandoffConnection(connection);
        if (!registry.TryGet(http2ListenerName, out var http2) || !http2.Acceptor.TryAccept(handoff))
        {
            connection.Abort(new ConnectionAbortedException("The HTTP/2 endpoint for protocol sniffing is not bound."));
            return;
        }
        await handoff.Completion.ConfigureAwait(false);
    };

    private static async Task<bool> StartsWithPrefaceAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            var length = (int)Math.Min(buffer.Length, _preface.Length);
            var matches = MatchesPreface(buffer.Slice(0, length));
            if (!matches || length == _preface.Length || result.IsCompleted || result.IsCanceled)
            {
                // Consume nothing and mark nothing examined: the next reader sees the same bytes at once.
                input.AdvanceTo(buffer.Start, buffer.Start);
                return matches && length == _preface.Length;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool MatchesPreface(ReadOnlySequence<byte> head)
    {
        Span<byte> bytes = stackalloc byte[_preface.Length];
        head.CopyTo(bytes);
        return bytes[..(int)head.Length].SequenceEqual(_preface.AsSpan(0, (int)head.Length));
    }
}
