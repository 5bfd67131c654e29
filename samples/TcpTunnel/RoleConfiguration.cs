using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;

namespace TcpTunnel;

/// <summary>Adds a role's settings below the environment and the command line, so <c>--ReverseProxy:…</c> arguments still override them.</summary>
internal static class RoleConfiguration
{
    public static void Add(ConfigurationManager configuration, string jsonFile, IReadOnlyDictionary<string, string?> overrides)
    {
        var sources = configuration.Sources;
        var index = sources.Select((source, i) => (source, i))
            .FirstOrDefault(s => s.source is EnvironmentVariablesConfigurationSource or CommandLineConfigurationSource, (null!, sources.Count)).i;
        var builder = new ConfigurationBuilder().SetBasePath(AppContext.BaseDirectory).AddJsonFile(jsonFile, optional: false).AddInMemoryCollection(overrides);
        sources.Insert(index, new ChainedConfigurationSource { Configuration = builder.Build(), ShouldDisposeConfiguration = true });
    }
}
