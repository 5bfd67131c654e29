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

    [Fact]
    public void Read_Tunneling_AllKeysParsedAndBadValuesReported()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Listeners:l1:Address"] = "tcp://127.0.0.1:10002",
            ["Listeners:l1:TcpProxy:ClusterId"] = "cluster_0",
            ["Listeners:l1:TcpProxy:Tunneling:Hostname"] = "127.0.0.1:10003",
            ["Listeners:l1:TcpProxy:Tunneling:Protocol"] = "http1",
            ["Listeners:l1:TcpProxy:Tunneling:UsePost"] = "true",
            ["Listeners:l1:TcpProxy:Tunneling:PostPath"] = "/tunnel",
            ["Listeners:l1:TcpProxy:Tunneling:HeadersToAdd:foo"] = "bar",
            ["Listeners:l1:TcpProxy:Tunneling:PropagateResponseHeaders"] = "true",
            ["Listeners:l1:TcpProxy:Tunneling:PropagateResponseTrailers"] = "false",
            ["Listeners:l2:Address"] = "tcp://127.0.0.1:10000",
            ["Listeners:l2:TcpProxy:ClusterId"] = "cluster_0",
            ["Listeners:l2:TcpProxy:Tunneling:Protocol"] = "Http3",
            ["Listeners:l2:TcpProxy:Tunneling:MaxTunnelsPerConnection"] = "many",
        }).Build().GetSection("Listeners");
        var errors = new List<string>();

        var listeners = ListenerConfigReader.Read(section, errors);

        var tunneling = listeners.Single(l => l.Name == "l1").TcpProxy!.Tunneling!;
        Assert.Equal("127.0.0.1:10003", tunneling.Hostname);
        Assert.Equal(TunnelProtocol.Http1, tunneling.Protocol);
        Assert.True(tunneling.UsePost);
        Assert.Equal("/tunnel", tunneling.PostPath);
        Assert.Equal("bar", Assert.Single(tunneling.HeadersToAdd!).Value);
        Assert.True(tunneling.PropagateResponseHeaders);
        Assert.False(tunneling.PropagateResponseTrailers);
        Assert.Null(listeners.Single(l => l.Name == "l2").TcpProxy!.Tunneling!.Hostname);
        Assert.Equal(
        [
            "Listener 'l2': TcpProxy:Tunneling:MaxTunnelsPerConnection 'many' is not an integer.",
            "Listener 'l2': TcpProxy:Tunneling:Protocol 'Http3' is not one of Http1, Http2.",
        ], errors.Order(StringComparer.Ordinal));
    }
}
