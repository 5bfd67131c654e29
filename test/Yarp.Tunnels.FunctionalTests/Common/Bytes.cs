namespace Yarp.Tunnels.FunctionalTests.Common;

internal static class Bytes
{
    /// <summary>Asserts byte-exact equality, reporting lengths and the first difference instead of dumping megabytes.</summary>
    public static void AssertEqual(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string? what = null)
    {
        if (expected.SequenceEqual(actual))
        {
            return;
        }
        var common = Math.Min(expected.Length, actual.Length);
        var first = expected[..common].CommonPrefixLength(actual[..common]);
        Assert.Fail($"{what ?? "bytes"} differ: expected {expected.Length} bytes, got {actual.Length}; first difference at offset {first}.");
    }
}
