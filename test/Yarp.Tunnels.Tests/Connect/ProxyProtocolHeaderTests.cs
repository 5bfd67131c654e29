using System.Net;
using System.Text;
using Yarp.Tunnels.Connect;

namespace Yarp.Tunnels.Tests.Connect;

public class ProxyProtocolHeaderTests
{
    private static readonly byte[] Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    [Fact]
    public void Build_V1Ipv4_TextLine() =>
        Assert.Equal("PROXY TCP4 198.51.100.7 203.0.113.1 51234 8080\r\n", Encoding.ASCII.GetString(ProxyProtocolHeader.Build(ProxyProtocolVersion.V1,
            new IPEndPoint(IPAddress.Parse("198.51.100.7"), 51234), new IPEndPoint(IPAddress.Parse("203.0.113.1"), 8080))));

    [Fact]
    public void Build_V1MappedAddresses_AreIpv4() =>
        Assert.Equal("PROXY TCP4 127.0.0.1 127.0.0.1 1 2\r\n", Encoding.ASCII.GetString(ProxyProtocolHeader.Build(ProxyProtocolVersion.V1,
            new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.1"), 1), new IPEndPoint(IPAddress.Parse("127.0.0.1"), 2))));

    [Fact]
    public void Build_V1Ipv6_AndUnknown()
    {
        Assert.Equal("PROXY TCP6 2001:db8::1 ::1 443 8443\r\n", Encoding.ASCII.GetString(ProxyProtocolHeader.Build(ProxyProtocolVersion.V1,
            new IPEndPoint(IPAddress.Parse("2001:db8::1"), 443), new IPEndPoint(IPAddress.IPv6Loopback, 8443))));
        Assert.Equal("PROXY UNKNOWN\r\n", Encoding.ASCII.GetString(ProxyProtocolHeader.Build(ProxyProtocolVersion.V1, null, null)));
    }

    [Fact]
    public void Build_V2Ipv6_BinaryBlock()
    {
        var header = ProxyProtocolHeader.Build(ProxyProtocolVersion.V2, new IPEndPoint(IPAddress.Parse("2001:db8::1"), 0x1234), new IPEndPoint(IPAddress.IPv6Loopback, 0x01BB));

        Assert.Equal(16 + 36, header.Length);
        Assert.Equal(Signature, header[..12]);
        Assert.Equal(new byte[] { 0x21, 0x21, 0x00, 0x24 }, header[12..16]);
        Assert.Equal(IPAddress.Parse("2001:db8::1").GetAddressBytes(), header[16..32]);
        Assert.Equal(IPAddress.IPv6Loopback.GetAddressBytes(), header[32..48]);
        Assert.Equal(new byte[] { 0x12, 0x34, 0x01, 0xBB }, header[48..52]);
    }

    [Fact]
    public void Build_V2WithoutAddresses_LocalCommand() =>
        Assert.Equal([.. Signature, 0x20, 0x00, 0x00, 0x00], ProxyProtocolHeader.Build(ProxyProtocolVersion.V2, null, null));
}
