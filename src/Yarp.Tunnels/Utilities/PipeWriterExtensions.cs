using System.IO.Pipelines;

namespace Yarp.Tunnels.Utilities;

internal static class PipeWriterExtensions
{
    /// <summary>The largest block a relay asks a pipe for: bounds what one receive or one copy adds beyond the pipe's pause threshold.</summary>
    public const int MaxBlockSize = 64 * 1024;

    /// <summary>
    /// Copies <paramref name="data"/> into <paramref name="writer"/> in chunks of at most <paramref name="maxChunk"/> bytes,
    /// flushing after each, so a stalled reader holds at most the pipe's pause threshold plus one chunk. Stops at the first
    /// flush that reports a canceled or completed pipe and returns it.
    /// </summary>
    /// <remarks>
    /// Each chunk first fills what is left of the pipe's last block, then asks for one block for the rest: every block but
    /// the last stays full, so committed memory tracks the bytes buffered whatever the write sizes. (Asking for a block
    /// the size of each write, as <c>GetSpan(size)</c> does, leaves the rest of the previous block unused: with small
    /// writes into a stalled pipe that pinned a whole block per write.) Blocks of up to 64 KiB keep bulk copies from
    /// churning many 4 KiB blocks, as <c>Pipe.WriteAsync</c> would.
    /// </remarks>
    public static async ValueTask<FlushResult> WriteInChunksAsync(this PipeWriter writer, ReadOnlyMemory<byte> data, int maxChunk, CancellationToken cancellationToken)
    {
        var result = default(FlushResult);
        while (!data.IsEmpty)
        {
            var chunk = data.Length > maxChunk ? data[..maxChunk] : data;
            Copy(writer, chunk.Span);
            result = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled || result.IsCompleted)
            {
                return result;
            }
            data = data[chunk.Length..];
        }
        return result;
    }

    private static void Copy(PipeWriter writer, ReadOnlySpan<byte> source)
    {
        // GetSpan() returns the rest of the last block, or a new minimum-size block when there is none.
        var target = writer.GetSpan();
        while (true)
        {
            var count = Math.Min(target.Length, source.Length);
            source[..count].CopyTo(target);
            writer.Advance(count);
            source = source[count..];
            if (source.IsEmpty)
            {
                return;
            }
            target = writer.GetSpan(source.Length);
        }
    }
}
