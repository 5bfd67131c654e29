using Microsoft.Extensions.Configuration;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.Tests.Configuration;

public class ListenerConfigReaderTests
{
    [Fact]
    public void Read_TypedValues_ParsedAndBadValuesReported()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Listeners:l1:Address"] = "tcp://127.0.0.1:10000",
            ["Listeners:l1:Protocols"] = "auto",
            ["Listeners:l1:TcpProxy:ClusterId"] = "l2",
            ["Listeners:l1:TcpProxy:IdleTimeout"] = "01:00:00",
            ["Listeners:l2:StatPrefix"] = "ingress_http",
            ["Listeners:l2:BufferSizeKb"] = "lots",
            ["Listeners:l2:Protocols"] = "Http3",
            ["Listeners:l2:TcpProxy:ConnectTimeout"] = "soon",
        }).Build().GetSection("Listeners");
        var errors = new List<string>();

        var listeners = ListenerConfigReader.Read(section, errors);

        Assert.Equal(2, listeners.Count);
        var l1 = listeners.Single(l => l.Name == "l1");
        Assert.Equal(ListenerProtocols.Auto, l1.Protocols);
        Assert.Equal(TimeSpan.FromHours(1), l1.TcpProxy!.IdleTimeout);
        Assert.Equal("l2", l1.TcpProxy.ClusterId);
        Assert.Equal("ingress_http", listeners.Single(l => l.Name == "l2").StatPrefix);
        Assert.Equal(
        [
            "Listener 'l2': BufferSizeKb 'lots' is not an integer.",
            "Listener 'l2': Protocols 'Http3' is not one of Http1, Http2, Http1AndHttp2, Auto.",
            "Listener 'l2': TcpProxy:ConnectTimeout 'soon' is not a time span (hh:mm:ss).",
        ], errors.Order(StringComparer.Ordinal));
    }
}
