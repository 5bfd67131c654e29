namespace Yarp.Tunnels.Shared;

/// <summary>Memory figures shared by the memory tests and the memory benchmark (linked into both projects).</summary>
internal static class CommittedMemory
{
    /// <summary>
    /// The GC's committed bytes after an aggressive collection: it compacts every generation and decommits the free
    /// space the GC would otherwise keep for later allocations, so what is left is what live objects (pools included) hold.
    /// </summary>
    public static long Measure()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetGCMemoryInfo(GCKind.FullBlocking).TotalCommittedBytes;
    }
}
