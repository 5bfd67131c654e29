namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>Tests that must use fixed ports (the samples' ports); they run alone, after the parallel tests.</summary>
[CollectionDefinition("FixedPorts", DisableParallelization = true)]
public sealed class FixedPortsCollection
{
    public const string Name = "FixedPorts";
}
