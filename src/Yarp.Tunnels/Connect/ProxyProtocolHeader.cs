using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// Builds the PROXY protocol header (HAProxy's specification, versions 1 and 2) naming the client's address as source
/// and the address it connected to as destination; the first bytes a terminated CONNECT sends to its target.
/// </summary>
internal static class ProxyProtocolHeader
{
    private static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>
    /// The header for a connection from <paramref name="source"/> to <paramref name="destination"/>; without IP
    /// endpoints (an internal listener's connection) v1 says <c>UNKNOWN</c> and v2 sends a <c>LOCAL</c> command.
    /// </summary>
    public static byte[] Build(ProxyProtocolVersion version, IPEndPoint? source, IPEndPoint? destination)
    {
        var known = source is not null && destination is not null;
        var v4 = known && IsV4(source!.Address) && IsV4(destination!.Address);
        IPAddress Normalize(IPAddress address) => v4 ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address) : address.MapToIPv6();
        if (version == ProxyProtocolVersion.V1)
        {
            return Encoding.ASCII.GetBytes(known
                ? string.Create(CultureInfo.InvariantCulture,
                    $"PROXY {(v4 ? "TCP4" : "TCP6")} {Normalize(source!.Address)} {Normalize(destination!.Address)} {source.Port} {destination.Port}\r\n")
                : "PROXY UNKNOWN\r\n");
        }

        var addressLength = !known ? 0 : v4 ? 12 : 36;
        var header = new byte[16 + addressLength];
        V2Signature.CopyTo(header, 0);
        header[12] = known ? (byte)0x21 : (byte)0x20; // version 2; PROXY or LOCAL
        header[13] = !known ? (byte)0x00 : v4 ? (byte)0x11 : (byte)0x21; // TCP over IPv4 / IPv6, or UNSPEC
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)addressLength);
        if (known)
        {
            var size = v4 ? 4 : 16;
            Normalize(source!.Address).TryWriteBytes(header.AsSpan(16, size), out _);
            Normalize(destination!.Address).TryWriteBytes(header.AsSpan(16 + size, size), out _);
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(16 + 2 * size), (ushort)source.Port);
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(18 + 2 * size), (ushort)destination.Port);
        }
        return header;
    }

    private static bool IsV4(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork || address.IsIPv4MappedToIPv6;
}
