using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.Tunnels.Upgrades;

namespace Yarp.Tunnels.Tests.Upgrades;

public class UpgradeRequestTests
{
    [Theory]
    [InlineData("websocket", "websocket")]
    [InlineData(" Foo ", "Foo")]
    [InlineData("SPDY/3.1", "SPDY/3.1")]
    public void TryDetect_Http1Upgrade_ReturnsTokenAsSent(string header, string expected)
    {
        var context = Http1(upgradable: true);
        context.Request.Headers.Upgrade = header;

        Assert.True(UpgradeRequest.TryDetect(context, out var type, out var kind));
        Assert.Equal(expected, type);
        Assert.Equal(UpgradeRequestKind.Http1Upgrade, kind);
    }

    [Fact]
    public void TryDetect_SeveralUpgradeProtocols_KeepsThemAsOneType()
    {
        var context = Http1(upgradable: true);
        context.Request.Headers.Upgrade = new(["websocket", "foo"]);

        Assert.True(UpgradeRequest.TryDetect(context, out var type, out _));
        Assert.Equal("websocket, foo", type);
    }

    [Theory]
    [InlineData(false, "websocket")]
    [InlineData(true, "")]
    [InlineData(true, null)]
    public void TryDetect_NotUpgradableOrNoUpgradeHeader_ReturnsFalse(bool upgradable, string? header)
    {
        var context = Http1(upgradable);
        if (header is not null)
        {
            context.Request.Headers.Upgrade = header;
        }

        Assert.False(UpgradeRequest.TryDetect(context, out _, out _));
    }

    [Theory]
    [InlineData("websocket", "websocket", false)]
    [InlineData("connect-tcp", "connect-tcp", false)]
    [InlineData("bytestream", "CONNECT", true)]
    [InlineData("ByteStream", "CONNECT", true)]
    public void TryDetect_ExtendedConnect_UsesProtocol(string protocol, string expectedType, bool plainConnect)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Connect;
        context.Features.Set<IHttpExtendedConnectFeature>(new ExtendedConnect(protocol));

        Assert.True(UpgradeRequest.TryDetect(context, out var type, out var kind));
        Assert.Equal(expectedType, type);
        Assert.Equal(plainConnect ? UpgradeRequestKind.Connect : UpgradeRequestKind.ExtendedConnect, kind);
    }

    [Fact]
    public void TryDetect_PlainConnect_ReturnsConnect()
    {
        var context = Http1(upgradable: false);
        context.Request.Method = HttpMethods.Connect;

        Assert.True(UpgradeRequest.TryDetect(context, out var type, out var kind));
        Assert.Equal(UpgradeRequest.ConnectType, type);
        Assert.Equal(UpgradeRequestKind.Connect, kind);
    }

    [Fact]
    public void TryDetect_OrdinaryGet_ReturnsFalse()
    {
        Assert.False(UpgradeRequest.TryDetect(new DefaultHttpContext(), out var type, out _));
        Assert.Equal("", type);
    }

    private static DefaultHttpContext Http1(bool upgradable)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Get;
        context.Features.Set<IHttpUpgradeFeature>(new Upgradable(upgradable));
        return context;
    }

    private sealed class Upgradable(bool value) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => value;

        public Task<Stream> UpgradeAsync() => throw new NotSupportedException();
    }

    private sealed class ExtendedConnect(string protocol) : IHttpExtendedConnectFeature
    {
        public bool IsExtendedConnect => true;

        public string? Protocol => protocol;

        public ValueTask<Stream> AcceptAsync() => throw new NotSupportedException();
    }
}
