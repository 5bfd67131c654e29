namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>Files of the repository the tests run from (samples' builds, interop scripts).</summary>
internal static class RepoPaths
{
    // <repo>/test/Yarp.Tunnels.FunctionalTests/bin/<Configuration>/<tfm>/Yarp.Tunnels.FunctionalTests.dll
    private static readonly DirectoryInfo TestOutput = new(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));

    public static string Root { get; } = FindRoot();

    /// <summary>The interop peers' folder (node and python scripts): <c>test/Yarp.Tunnels.FunctionalTests/Interop</c>.</summary>
    public static string Interop => Path.Combine(Root, "test", "Yarp.Tunnels.FunctionalTests", "Interop");

    /// <summary>A sample's folder and dll, built by the project reference for this test assembly's configuration.</summary>
    public static (string Directory, string Dll) Sample(string folder, string assemblyName)
    {
        var sampleDir = Path.Combine(Root, "samples", folder);
        var dll = Path.Combine(sampleDir, "bin", TestOutput.Parent!.Name, TestOutput.Name, assemblyName + ".dll");
        Assert.True(File.Exists(dll), $"The sample was not built at {dll}; build the functional test project (it references the sample).");
        return (sampleDir, dll);
    }

    private static string FindRoot()
    {
        var repo = TestOutput;
        while (repo is not null && !File.Exists(Path.Combine(repo.FullName, "Yarp.Tunnels.sln")))
        {
            repo = repo.Parent;
        }
        return repo?.FullName ?? throw new InvalidOperationException($"No Yarp.Tunnels.sln above {TestOutput.FullName}.");
    }
}
