using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Tests.InternalListeners;

public class InternalEndPointTests
{
    [Fact]
    public void Constructor_Valid_FormatsAsEnvoyInternalUri()
    {
        var endPoint = new InternalEndPoint("singleton_internal_encap", 1);
        Assert.Equal("envoy-internal://singleton_internal_encap", endPoint.ToString());
        Assert.Equal(1, endPoint.BufferSizeKb);
        Assert.Equal(new InternalEndPoint("singleton_internal_encap"), endPoint);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8193)]
    public void Constructor_BufferSizeOutOfRange_Throws(int size) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new InternalEndPoint("x", size));

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("a/b")]
    public void Constructor_BadName_Throws(string name) => Assert.Throws<ArgumentException>(() => new InternalEndPoint(name));

    [Fact]
    public void Connect_UnknownName_ThrowsNamingListener()
    {
        var ex = Assert.Throws<InternalListenerNotFoundException>(() => new InternalListenerRegistry().Connect("ghost"));
        Assert.Equal("ghost", ex.ListenerName);
        Assert.Contains("'ghost'", ex.Message);
    }
}
