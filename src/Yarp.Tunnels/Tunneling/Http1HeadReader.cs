using System.Buffers;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling;

/// <summary>What <see cref="Http1HeadReader.ReadAsync"/> read: a head, or why not; plus payload read past it.</summary>
/// <param name="Head">The response head; null on end of stream or error.</param>
/// <param name="Error">Why the head is malformed; null when it is not.</param>
/// <param name="Payload">A pooled buffer holding bytes read past the head at [<paramref name="PayloadStart"/>, <paramref name="PayloadEnd"/>) (the caller owns it), or null.</param>
/// <param name="PayloadStart">Where the payload starts in <paramref name="Payload"/>.</param>
/// <param name="PayloadEnd">Where it ends.</param>
internal readonly record struct Http1HeadRead(Http1ResponseHead? Head, string? Error, byte[]? Payload, int PayloadStart, int PayloadEnd);

/// <summary>
/// Reads an HTTP/1.1 response head from an end. From a pipe it consumes exactly the head, so payload stays in the pipe
/// for the relay; from a socket or TLS stream, bytes read past the head come back as <see cref="Http1HeadRead.Payload"/>.
/// </summary>
internal static class Http1HeadReader
{
    private const int FirstReadSize = 4096;

    public static async ValueTask<Http1HeadRead> ReadAsync(RelayEnd end, CancellationToken cancellationToken)
    {
        if (end.Input is { } input)
        {
            while (true)
            {
                var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                var data = result.Buffer;
                var window = data.Length > Http1ResponseHead.MaxBytes ? data.Slice(0, Http1ResponseHead.MaxBytes) : data;
                if (Http1ResponseHead.TryParse(window.IsSingleSegment ? window.FirstSpan : window.ToArray(), out var head, out var error))
                {
                    input.AdvanceTo(head is null ? data.Start : data.GetPosition(head.Length));
                    return new(head, error, null, 0, 0);
                }
                if (result.IsCompleted || result.IsCanceled)
                {
                    input.AdvanceTo(data.End);
                    return default;
                }
                input.AdvanceTo(data.Start, data.End);
            }
        }

        var buffer = ArrayPool<byte>.Shared.Rent(FirstReadSize);
        var filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 4, Http1ResponseHead.MaxBytes));
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await end.ReadCopyAsync(buffer.AsMemory(filled, Math.Min(buffer.Length, Http1ResponseHead.MaxBytes) - filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return default;
                }
                filled += read;
                if (Http1ResponseHead.TryParse(buffer.AsSpan(0, filled), out var head, out var error))
                {
                    if (head is null || head.Length == filled)
                    {
                        return new(head, error, null, 0, 0);
                    }
                    var payload = buffer;
                    buffer = null!;
                    return new(head, null, payload, head.Length, filled);
                }
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
