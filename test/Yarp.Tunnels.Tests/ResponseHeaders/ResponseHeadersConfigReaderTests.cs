using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Yarp.Tunnels.ResponseHeaders;

namespace Yarp.Tunnels.Tests.ResponseHeaders;

public class ResponseHeadersConfigReaderTests
{
    [Fact]
    public void Read_NoSection_SetsNothing()
    {
        var errors = new List<string>();
        var config = ResponseHeadersConfigReader.Read(Section([]), errors);

        Assert.Empty(errors);
        Assert.Same(ResponseHeadersConfig.None, config);
        Assert.False(config.ControlsServerHeader);
        Assert.False(ResponseHeadersConfigReader.ConfiguresServerHeader(Section([])));
    }

    [Fact]
    public void Read_AllKeys_ReadsThem()
    {
        var section = Section(new()
        {
            ["ResponseHeaders:ServerName"] = "yarp-tunnels",
            ["ResponseHeaders:ServerHeaderTransformation"] = "appendifabsent",
            ["ResponseHeaders:UpstreamServiceTimeHeader"] = "x-envoy-upstream-service-time",
        });
        var errors = new List<string>();

        var config = ResponseHeadersConfigReader.Read(section, errors);

        Assert.Empty(errors);
        Assert.Equal(new ResponseHeadersConfig("yarp-tunnels", ServerHeaderTransformation.AppendIfAbsent, "x-envoy-upstream-service-time"), config);
        Assert.True(ResponseHeadersConfigReader.ConfiguresServerHeader(section));
    }

    [Fact]
    public void Read_PassThroughWithoutName_IsValidAndControlsTheHeader()
    {
        var section = Section(new() { ["ResponseHeaders:ServerHeaderTransformation"] = "PassThrough" });
        var errors = new List<string>();

        var config = ResponseHeadersConfigReader.Read(section, errors);

        Assert.Empty(errors);
        Assert.True(config.ControlsServerHeader);
        Assert.True(ResponseHeadersConfigReader.ConfiguresServerHeader(section));
    }

    [Fact]
    public void Read_EmptyUpstreamTimeHeader_AddsNone()
    {
        var errors = new List<string>();
        var config = ResponseHeadersConfigReader.Read(Section(new() { ["ResponseHeaders:UpstreamServiceTimeHeader"] = "", ["ResponseHeaders:ServerName"] = "x" }), errors);

        Assert.Empty(errors);
        Assert.Null(config.UpstreamServiceTimeHeader);
    }

    [Fact]
    public void Read_EveryBadValue_CollectsEveryError()
    {
        var section = Section(new()
        {
            ["ResponseHeaders:ServerName"] = " padded\u0001",
            ["ResponseHeaders:ServerHeaderTransformation"] = "Sometimes",
            ["ResponseHeaders:UpstreamServiceTimeHeader"] = "x upstream time",
        });
        var errors = new List<string>();

        ResponseHeadersConfigReader.Read(section, errors);

        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains("ServerName ' padded", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("ServerHeaderTransformation 'Sometimes' is not one of Overwrite, AppendIfAbsent, PassThrough", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("UpstreamServiceTimeHeader 'x upstream time' is not a valid header name", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_OverwriteWithoutName_NamesTheMissingServerName()
    {
        var errors = new List<string>();
        ResponseHeadersConfigReader.Read(Section(new() { ["ResponseHeaders:ServerHeaderTransformation"] = "Overwrite" }), errors);

        Assert.Equal("ResponseHeaders: ServerHeaderTransformation 'Overwrite' needs a ServerName to set.", Assert.Single(errors));
    }

    [Fact]
    public void Schema_DescribesEveryResponseHeadersKey()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "ConfigurationSchema.json")));
        var block = schema.RootElement.GetProperty("properties").GetProperty("ReverseProxy").GetProperty("properties")
            .GetProperty("ResponseHeaders").GetProperty("properties");

        Assert.Equal(["ServerName", "ServerHeaderTransformation", "UpstreamServiceTimeHeader"], block.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Enum.GetNames<ServerHeaderTransformation>(),
            block.GetProperty("ServerHeaderTransformation").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
    }

    private static IConfigurationSection Section(Dictionary<string, string?> values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(kv => KeyValuePair.Create("ReverseProxy:" + kv.Key, kv.Value)))
            .Build()
            .GetSection("ReverseProxy");
}
