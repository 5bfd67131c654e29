using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Yarp.Tunnels.Benchmarks;

/// <summary>The machine line every report opens with, so figures from different runs can be told apart.</summary>
internal static class BenchmarkMachine
{
    public static string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"- CPUs available to this process: {Environment.ProcessorCount}; {RuntimeInformation.OSDescription}; {RuntimeInformation.FrameworkDescription}; GC: {(GCSettings.IsServerGC ? "server" : "workstation")}.");
}
