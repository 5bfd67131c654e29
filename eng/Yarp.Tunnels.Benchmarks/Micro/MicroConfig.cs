using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;

namespace Yarp.Tunnels.Benchmarks.Micro;

/// <summary>A short job: a whole micro run takes a couple of minutes even on a busy 2-core machine.</summary>
internal static class MicroConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddJob(Job.Default
            .WithId("Short")
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(8)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .AsDefault())
        .AddDiagnoser(MemoryDiagnoser.Default);
}
