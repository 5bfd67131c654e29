namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>
/// Tests that observe process-wide resources (open sockets) or depend on short timing windows run in this
/// collection, alone, after the parallel collections have finished.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NonParallelCollection
{
    public const string Name = "NonParallel";
}
