using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;

/// <summary>
/// Adds a role's settings below the environment and the command line, so <c>--ReverseProxy:…</c> arguments still override
/// them. Linked into the samples whose halves can run apart (TcpTunnel, HttpInConnect, ProxyConnect).
/// </summary>
internal static class RoleConfiguration
{
    public static void Add(ConfigurationManager configuration, string jsonFile, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var sources = configuration.Sources;
        var index = sources.Select((source, i) => (source, i))
            .FirstOrDefault(s => s.source is EnvironmentVariablesConfigurationSource or CommandLineConfigurationSource, (null!, sources.Count)).i;
        var builder = new ConfigurationBuilder().SetBasePath(AppContext.BaseDirectory).AddJsonFile(jsonFile, optional: false).AddInMemoryCollection(overrides ?? new Dictionary<string, string?>());
        sources.Insert(index, new ChainedConfigurationSource { Configuration = builder.Build(), ShouldDisposeConfiguration = true });
    }

    /// <summary>
    /// A gateway host configured by <paramref name="roleFile"/> (its <c>ReverseProxy</c> section with Yarp.Tunnels) and
    /// mapped with <c>MapTunnelsReverseProxy</c>, for samples that run each half as a host of its own.
    /// </summary>
    public static WebApplication BuildHost(string[] args, string roleFile)
    {
        var builder = WebApplication.CreateBuilder(args);
        Add(builder.Configuration, roleFile);
        var proxySection = builder.Configuration.GetSection("ReverseProxy");
        builder.Services.AddReverseProxy()
            .LoadFromConfig(proxySection)
            .AddTunnels(proxySection);
        var app = builder.Build();
        app.MapTunnelsReverseProxy();
        return app;
    }
}
