namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>A deterministic byte pattern for byte-exact transfer checks.</summary>
internal static class Payload
{
    public const int TenMiB = 10 * 1024 * 1024;

    public static readonly byte[] Block = Enumerable.Range(0, 64 * 1024).Select(i => (byte)(i * 31 + (i >> 8))).ToArray();

    public static byte[] Expected(long size)
    {
        var result = new byte[size];
        for (long offset = 0; offset < size; offset += Block.Length)
        {
            Block.AsSpan(0, (int)Math.Min(Block.Length, size - offset)).CopyTo(result.AsSpan((int)offset));
        }
        return result;
    }
}
