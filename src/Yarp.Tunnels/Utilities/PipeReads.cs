using System.Buffers;
using System.IO.Pipelines;

namespace Yarp.Tunnels.Utilities;

/// <summary>Stream-style reads from a pipe: copy what is there into the caller's buffer and consume exactly that.</summary>
internal static class PipeReads
{
    /// <summary>
    /// Copies from <paramref name="result"/> into <paramref name="destination"/> and advances the reader. Returns false
    /// when nothing was there yet and the pipe is still open, so the caller reads again; otherwise <paramref name="count"/>
    /// is the bytes copied (0 at end of stream).
    /// </summary>
    public static bool TryCopy(PipeReader reader, in ReadResult result, Span<byte> destination, out int count)
    {
        var data = result.Buffer;
        if (!data.IsEmpty)
        {
            count = (int)Math.Min(data.Length, destination.Length);
            var consumed = data.Slice(0, count);
            consumed.CopyTo(destination);
            reader.AdvanceTo(consumed.End);
            return true;
        }
        reader.AdvanceTo(data.End);
        count = 0;
        return result.IsCompleted || result.IsCanceled;
    }
}
