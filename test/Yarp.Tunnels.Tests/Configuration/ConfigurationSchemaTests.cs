using System.Text.Json;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.Tests.Configuration;

public class ConfigurationSchemaTests
{
    [Fact]
    public void Schema_DescribesEveryListenerKey()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "ConfigurationSchema.json");
        using var schema = JsonDocument.Parse(File.ReadAllText(path));
        var listener = schema.RootElement.GetProperty("properties").GetProperty("ReverseProxy").GetProperty("properties")
            .GetProperty("Listeners").GetProperty("patternProperties").GetProperty(".").GetProperty("properties");

        foreach (var property in typeof(ListenerConfig).GetProperties().Where(p => p.Name != nameof(ListenerConfig.Name)))
        {
            Assert.True(listener.TryGetProperty(property.Name, out _), $"schema lacks Listeners:*:{property.Name}");
        }
        var tcp = listener.GetProperty("TcpProxy").GetProperty("properties");
        foreach (var property in typeof(TcpProxyConfig).GetProperties())
        {
            Assert.True(tcp.TryGetProperty(property.Name, out _), $"schema lacks TcpProxy:{property.Name}");
        }
        var tunneling = tcp.GetProperty("Tunneling").GetProperty("properties");
        foreach (var property in typeof(TunnelingConfig).GetProperties().Where(p => p.Name != "EqualityContract"))
        {
            Assert.True(tunneling.TryGetProperty(property.Name, out _), $"schema lacks TcpProxy:Tunneling:{property.Name}");
        }
        var protocols = listener.GetProperty("Protocols").GetProperty("enum").EnumerateArray().Select(e => e.GetString());
        Assert.Equal(Enum.GetNames<ListenerProtocols>(), protocols);
    }

    [Fact]
    public void Schema_DescribesEveryAdminKey()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "ConfigurationSchema.json");
        using var schema = JsonDocument.Parse(File.ReadAllText(path));
        var admin = schema.RootElement.GetProperty("properties").GetProperty("ReverseProxy").GetProperty("properties")
            .GetProperty("Admin").GetProperty("properties");

        foreach (var property in typeof(Yarp.Tunnels.Admin.TunnelAdminOptions).GetProperties())
        {
            Assert.True(admin.TryGetProperty(property.Name, out _), $"schema lacks Admin:{property.Name}");
        }
    }
}
