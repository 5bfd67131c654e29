using System.Text.Json;
using System.Text.RegularExpressions;
using Yarp.Tunnels.Upgrades;

namespace Yarp.Tunnels.Tests.Upgrades;

public class UpgradeSchemaTests
{
    private static JsonElement ReverseProxy()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "ConfigurationSchema.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("properties").GetProperty("ReverseProxy").GetProperty("properties");
    }

    [Fact]
    public void Schema_DescribesEveryUpgradeKey()
    {
        var proxy = ReverseProxy();
        var gateway = proxy.GetProperty("Upgrades").GetProperty("items").GetProperty("properties");
        foreach (var property in typeof(UpgradeConfig).GetProperties())
        {
            Assert.True(gateway.TryGetProperty(property.Name, out _), $"schema lacks Upgrades[]:{property.Name}");
        }

        var route = proxy.GetProperty("Routes").GetProperty("patternProperties").GetProperty(".").GetProperty("properties");
        var routeEntry = route.GetProperty(UpgradeConfigReader.UpgradesKey).GetProperty("items").GetProperty("properties");
        foreach (var property in typeof(RouteUpgradeConfig).GetProperties())
        {
            Assert.True(routeEntry.TryGetProperty(property.Name, out _), $"schema lacks Routes:*:Upgrades[]:{property.Name}");
        }
        Assert.True(route.GetProperty(UpgradeConfigReader.ConnectKey).GetProperty("properties").TryGetProperty("Enabled", out _));
        Assert.True(route.TryGetProperty(UpgradeConfigReader.IdleTimeoutKey, out _));
    }

    [Theory]
    [InlineData("websocket")]
    [InlineData("SPDY/3.1")]
    [InlineData("CONNECT")]
    [InlineData("a b")]
    [InlineData("a/b/c")]
    [InlineData("/x")]
    public void Schema_UpgradeTypePattern_AgreesWithValidator(string value)
    {
        var pattern = ReverseProxy().GetProperty("Upgrades").GetProperty("items").GetProperty("properties")
            .GetProperty("UpgradeType").GetProperty("pattern").GetString()!;

        Assert.Equal(UpgradeConfigValidator.IsUpgradeToken(value), Regex.IsMatch(value, pattern));
    }
}
