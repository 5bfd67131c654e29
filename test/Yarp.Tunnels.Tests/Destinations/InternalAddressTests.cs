using Yarp.Tunnels.Destinations;

namespace Yarp.Tunnels.Tests.Destinations;

public class InternalAddressTests
{
    [Theory]
    [InlineData("envoy-internal://encap", "encap", "/")]
    [InlineData("envoy-internal://encap/", "encap", "/")]
    [InlineData("ENVOY-INTERNAL://singleton_internal_encap/api?x=1", "singleton_internal_encap", "/api?x=1")]
    [InlineData("envoy-internal://a.b-c?q", "a.b-c", "/?q")]
    public void TryParse_WellFormed_ReturnsNameAndPath(string address, string name, string path)
    {
        Assert.True(InternalAddress.TryParse(address, out var parsedName, out var parsedPath, out var error));
        Assert.Null(error);
        Assert.Equal(name, parsedName);
        Assert.Equal(path, parsedPath);
    }

    [Theory]
    [InlineData("envoy-internal://", "names no internal listener")]
    [InlineData("envoy-internal:///path", "names no internal listener")]
    [InlineData("envoy-internal://name:80", "takes no port")]
    [InlineData("envoy-internal://user@name", "takes no port or user info")]
    [InlineData("envoy-internal://bad name", "is not a valid internal listener name")]
    public void TryParse_Malformed_ReturnsReason(string address, string reason)
    {
        Assert.False(InternalAddress.TryParse(address, out _, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Theory]
    [InlineData("envoy-internal://x", true)]
    [InlineData("http://x", false)]
    [InlineData(null, false)]
    public void IsInternal_Scheme_Detected(string? address, bool expected) => Assert.Equal(expected, InternalAddress.IsInternal(address));
}
