using System.IO.Pipelines;

namespace Yarp.Tunnels.Utilities;

internal static class PipeWriterExtensions
{
    /// <summary>
    /// Like <see cref="PipeWriter.WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>, but asks the pipe for a segment as
    /// large as <paramref name="data"/>. <c>Pipe.WriteAsync</c> splits a write into minimum-size (4 KiB) segments: with a
    /// deep buffer that is hundreds of segments per connection, more than ArrayPool keeps per core, so bulk relays
    /// allocated and collected a fresh array for most segments.
    /// </summary>
    public static ValueTask<FlushResult> WriteInLargeSegmentsAsync(this PipeWriter writer, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var source = data.Span;
        while (!source.IsEmpty)
        {
            var target = writer.GetSpan(source.Length);
            var count = Math.Min(target.Length, source.Length);
            source[..count].CopyTo(target);
            writer.Advance(count);
            source = source[count..];
        }
        return writer.FlushAsync(cancellationToken);
    }
}
