using System.Text.Json;
using Yarp.Tunnels.Connect;

namespace Yarp.Tunnels.Tests.Connect;

public class ConnectSchemaTests
{
    [Fact]
    public void Schema_DescribesEveryConnectKey()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "ConfigurationSchema.json");
        using var schema = JsonDocument.Parse(File.ReadAllText(path));
        var connect = schema.RootElement.GetProperty("properties").GetProperty("ReverseProxy").GetProperty("properties")
            .GetProperty("Routes").GetProperty("patternProperties").GetProperty(".").GetProperty("properties")
            .GetProperty("Connect").GetProperty("properties");

        foreach (var property in typeof(ConnectConfig).GetProperties())
        {
            Assert.True(connect.TryGetProperty(property.Name, out _), $"schema lacks Routes:*:Connect:{property.Name}");
        }
        var policy = connect.GetProperty(nameof(ConnectConfig.Policy)).GetProperty("properties");
        foreach (var property in typeof(ConnectPolicyConfig).GetProperties())
        {
            Assert.True(policy.TryGetProperty(property.Name, out _), $"schema lacks Routes:*:Connect:Policy:{property.Name}");
        }
        var tls = connect.GetProperty(nameof(ConnectConfig.TlsOrigination)).GetProperty("properties");
        foreach (var property in typeof(ConnectTlsOriginationConfig).GetProperties())
        {
            Assert.True(tls.TryGetProperty(property.Name, out _), $"schema lacks Routes:*:Connect:TlsOrigination:{property.Name}");
        }
        Assert.Equal(Enum.GetNames<ConnectMode>(), connect.GetProperty("Mode").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(Enum.GetNames<ProxyProtocolVersion>().Select(n => n.ToLowerInvariant()),
            connect.GetProperty("ProxyProtocol").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
    }
}
