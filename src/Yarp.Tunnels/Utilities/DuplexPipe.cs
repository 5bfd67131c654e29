using System.IO.Pipelines;

namespace Yarp.Tunnels.Utilities;

/// <summary>A connection's transport as two pipe ends: what is read from it and what is written to it.</summary>
internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
