using System.Net;
using Yarp.Tunnels.Tunneling;

namespace Yarp.Tunnels.Tests.Tunneling;

public class TunnelFormatStringTests
{
    private static readonly TunnelFormatContext Context = new(
        new IPEndPoint(IPAddress.Loopback, 10000),
        new IPEndPoint(IPAddress.IPv6Loopback, 5555),
        "example.com",
        new Dictionary<string, string> { ["target"] = "10.0.0.7:443", ["evil"] = "a\r\nInjected: 1" },
        new Dictionary<string, string> { ["region"] = "eu" });

    [Theory]
    [InlineData("host.com:443", "host.com:443")]
    [InlineData("%REQUESTED_SERVER_NAME%:443", "example.com:443")]
    [InlineData("127.0.0.1:%DOWNSTREAM_LOCAL_PORT%", "127.0.0.1:10000")]
    [InlineData("%DOWNSTREAM_LOCAL_ADDRESS%", "127.0.0.1:10000")]
    [InlineData("%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%", "127.0.0.1")]
    [InlineData("%DOWNSTREAM_REMOTE_ADDRESS%", "[::1]:5555")]
    [InlineData("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%DOWNSTREAM_REMOTE_PORT%", "::1|5555")]
    [InlineData("%DESTINATION_METADATA(target)%", "10.0.0.7:443")]
    [InlineData("%CLUSTER_METADATA(region)%-%CLUSTER_METADATA(absent)%.", "eu-.")]
    [InlineData("100%% %DOWNSTREAM_LOCAL_PORT%", "100% 10000")]
    [InlineData("", "")]
    public void Evaluate_Variables_Substituted(string format, string expected)
    {
        var parsed = TunnelFormatString.Parse(format, out var error);

        Assert.Null(error);
        Assert.Equal(expected, parsed!.Evaluate(Context));
    }

    [Fact]
    public void Evaluate_ValueWithLineBreaks_ControlCharactersDropped()
    {
        var parsed = TunnelFormatString.Parse("x %DESTINATION_METADATA(evil)%", out _);

        Assert.Equal("x aInjected: 1", parsed!.Evaluate(Context));
    }

    [Theory]
    [InlineData("%UPSTREAM_HOST%:443", "unknown variable '%UPSTREAM_HOST%'")]
    [InlineData("%DESTINATION_METADATA()%", "unknown variable '%DESTINATION_METADATA()%'")]
    [InlineData("host:%DOWNSTREAM_LOCAL_PORT", "'%' at position 5 opens a variable that is not closed")]
    public void Parse_BadVariable_ErrorNamesIt(string format, string expected)
    {
        Assert.Null(TunnelFormatString.Parse(format, out var error));
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void UsesRequestedServerName_OnlyWhenReferenced()
    {
        Assert.True(TunnelFormatString.Parse("%REQUESTED_SERVER_NAME%:443", out _)!.UsesRequestedServerName);
        Assert.False(TunnelFormatString.Parse("host.com:%DOWNSTREAM_LOCAL_PORT%", out _)!.UsesRequestedServerName);
    }
}
