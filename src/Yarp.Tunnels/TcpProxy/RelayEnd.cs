using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>
/// One side of a <see cref="TcpRelay"/>: a socket, an internal listener's connection or an internal client stream (and
/// any byte stream a tunnel kind adds).
/// </summary>
/// <remarks>
/// <para><b>Ownership.</b> A relay runs one loop per direction. The loop that moves bytes out of an end is the only user
/// of its read side (<see cref="Input"/>, or <see cref="WaitForDataAsync"/> and <see cref="ReadAsync"/> when it has no
/// pipe); the loop that moves bytes into an end is the only user of its write side (<see cref="Output"/> or
/// <see cref="WriteAsync"/>, then <see cref="ShutdownWrite"/>).</para>
/// <para><b>Completion.</b> The writing loop half-closes the end with <see cref="ShutdownWrite"/> when its source ended.
/// <see cref="Abort"/> may be called from any thread (the idle timer, the other loop, a drain) and only signals: it resets a
/// socket or cancels pending pipe operations, so the owning loops wake and end; it never completes a pipe or returns
/// its memory while a loop may still be receiving into it. Whoever started the relay calls <see cref="DisposeAsync"/>
/// once both loops ended; it completes what is left (with a reset error after an abort) and releases the end.</para>
/// <para><b>Flow control and memory.</b> Writes wait while the end's buffer is full (a socket's send buffer, a pipe's
/// pause threshold), so a stalled reader stops the relay's receives in that direction. The relay asks a pipe for at most
/// <see cref="MaxWriteSize"/> bytes at a time and fills each block before asking for another, so a direction commits at
/// most the pipe's threshold plus one block whatever the write pattern; idle ends hold no buffer.</para>
/// </remarks>
internal abstract class RelayEnd : IAsyncDisposable
{
    /// <summary>The pipe this end is read from, if it has one: the relay then sends straight from the pipe's memory.</summary>
    public virtual PipeReader? Input => null;

    /// <summary>The pipe this end is written to, if it has one: the relay then receives straight into the pipe's memory.</summary>
    public virtual PipeWriter? Output => null;

    /// <summary>
    /// The connected socket this end is, when reading and writing it is all the end does (no buffered bytes in front, no
    /// framing): a relay between two such ends may move bytes inside the kernel. Its writes still go through
    /// <see cref="WriteAsync"/> when the socket has no room, and reads are still counted with <see cref="CountBytes"/>.
    /// </summary>
    public virtual Socket? Socket => null;

    /// <summary>The most the relay puts into <see cref="Output"/> per flush.</summary>
    public virtual int MaxWriteSize => PipeWriterExtensions.MaxBlockSize;

    /// <summary>The address this end's connection was accepted on or made from, when it has one (format strings, logs).</summary>
    public virtual EndPoint? LocalEndPoint => null;

    /// <summary>The address of this end's peer, when it has one.</summary>
    public virtual EndPoint? RemoteEndPoint => null;

    /// <summary>
    /// Copies the first bytes waiting to be read into <paramref name="buffer"/> without consuming them, once more than
    /// <paramref name="known"/> are there (or the buffer is full, or the peer finished: then it returns what there is,
    /// 0 if nothing). Used before the relay starts (TLS SNI inspection); a later read still returns every byte.
    /// </summary>
    public virtual async ValueTask<int> PeekAsync(Memory<byte> buffer, int known, CancellationToken cancellationToken)
    {
        var input = Input ?? throw new NotSupportedException($"{GetType().Name} cannot peek.");
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var data = result.Buffer;
            if (data.Length > known || data.Length >= buffer.Length || result.IsCompleted || result.IsCanceled)
            {
                var count = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, count).CopyTo(buffer.Span);
                // Nothing consumed or examined: the relay's first read returns these bytes at once.
                input.AdvanceTo(data.Start);
                return count;
            }
            input.AdvanceTo(data.Start, data.End);
        }
    }

    /// <summary>Completes when data (or end of stream) is ready to read, so an idle end holds no buffer meanwhile.</summary>
    /// <remarks>Ends without a cheap way to wait complete at once; the relay then waits in <see cref="ReadAsync"/>.</remarks>
    public virtual ValueTask WaitForDataAsync(CancellationToken cancellationToken) => default;

    /// <summary>Reads into <paramref name="buffer"/>; 0 means the peer finished sending. Ends with an <see cref="Input"/> are read through it instead.</summary>
    public virtual ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} is read through its Input pipe.");

    /// <summary>
    /// Stream-style read for code that parses an end's bytes itself (a tunnel's HTTP head or body framing): copies from
    /// <see cref="Input"/> when the end has one, else calls <see cref="ReadAsync"/>. 0 means end of stream.
    /// </summary>
    public async ValueTask<int> ReadCopyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (Input is not { } input)
        {
            return await ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (PipeReads.TryCopy(input, result, buffer.Span, out var count))
            {
                if (result.IsCanceled && count == 0)
                {
                    throw new ConnectionResetException("The connection was reset.");
                }
                return count;
            }
        }
    }

    /// <summary>Writes all of <paramref name="data"/>, waiting while the end's buffer is full; fails when the peer reset or stopped reading.</summary>
    public virtual async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var output = Output ?? throw new NotSupportedException($"{GetType().Name} has no Output pipe.");
        var result = await output.WriteInChunksAsync(data, MaxWriteSize, cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new ConnectionResetException("The connection was reset or stopped reading.");
        }
    }

    /// <summary>Accounts bytes read from (<paramref name="read"/>) or written to this end, for ends that carry their own statistics.</summary>
    public virtual void CountBytes(long count, bool read)
    {
    }

    /// <summary>Half-closes: the peer reads end of stream and may still send. Called by the loop writing to this end.</summary>
    public abstract void ShutdownWrite();

    /// <summary>Resets the connection. Safe from any thread; see the remarks of <see cref="RelayEnd"/>.</summary>
    public abstract void Abort();

    /// <summary>Completes and releases the end; call once no loop uses it.</summary>
    public abstract ValueTask DisposeAsync();
}
