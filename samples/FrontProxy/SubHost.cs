using Microsoft.Extensions.Configuration;

namespace FrontProxy;

/// <summary>A host of the topology other than the process's main one: its own services, meters and configuration.</summary>
internal static class SubHost
{
    public static WebApplicationBuilder CreateBuilder(IConfiguration root, IEnumerable<KeyValuePair<string, string?>> values)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SubHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        // Only what this host is given: the defaults would read the front's appsettings.json, listeners included.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(SampleConfiguration.ForHost(root, values));
        StartupLogGate.Apply(builder.Logging);
        return builder;
    }
}
