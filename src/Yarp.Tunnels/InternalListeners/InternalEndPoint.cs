using System.Net;
using System.Net.Sockets;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// The address of a named internal listener: an in-process listener that accepts connections without sockets,
/// addressed by YARP destinations as <c>envoy-internal://NAME</c>.
/// </summary>
public sealed class InternalEndPoint : EndPoint
{
    /// <summary>The URI scheme that addresses internal listeners.</summary>
    public const string Scheme = "envoy-internal";

    /// <summary>The default size, in KiB, of each direction's buffer (Envoy's <c>buffer_size_kb</c>).</summary>
    public const int DefaultBufferSizeKb = 1024;

    /// <summary>The largest allowed <see cref="BufferSizeKb"/>.</summary>
    public const int MaxBufferSizeKb = 8192;

    /// <summary>Creates an endpoint for the internal listener <paramref name="name"/>.</summary>
    public InternalEndPoint(string name, int bufferSizeKb = DefaultBufferSizeKb)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid internal listener name: use letters, digits, '.', '-' and '_'.", nameof(name));
        }
        if (bufferSizeKb is < 1 or > MaxBufferSizeKb)
        {
            throw new ArgumentOutOfRangeException(nameof(bufferSizeKb), bufferSizeKb, $"BufferSizeKb must be between 1 and {MaxBufferSizeKb}.");
        }
        Name = name;
        BufferSizeKb = bufferSizeKb;
    }

    /// <summary>The listener name.</summary>
    public string Name { get; }

    /// <summary>The size in KiB of each direction's buffer; a full buffer applies backpressure to the writer.</summary>
    public int BufferSizeKb { get; }

    /// <summary>Whether <paramref name="name"/> can name an internal listener.</summary>
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '-' or '_'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary><see cref="AddressFamily.Unspecified"/>: no socket family. (The base property throws, and Kestrel's
    /// connection metrics read it for unknown endpoint types: every connection failed once a listener enabled them.)</summary>
    public override AddressFamily AddressFamily => AddressFamily.Unspecified;

    /// <inheritdoc/>
    public override string ToString() => $"{Scheme}://{Name}";

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is InternalEndPoint other && string.Equals(Name, other.Name, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Name);
}
