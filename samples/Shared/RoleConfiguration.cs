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
}
