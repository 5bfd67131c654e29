using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;

namespace HttpInConnect;

/// <summary>Adds a role's settings file below the environment and the command line, so <c>--ReverseProxy:…</c> arguments still override it.</summary>
internal static class RoleConfiguration
{
    public static void Add(ConfigurationManager configuration, string jsonFile)
    {
        var sources = configuration.Sources;
        var index = sources.Select((source, i) => (source, i))
            .FirstOrDefault(s => s.source is EnvironmentVariablesConfigurationSource or CommandLineConfigurationSource, (null!, sources.Count)).i;
        var role = new ConfigurationBuilder().SetBasePath(AppContext.BaseDirectory).AddJsonFile(jsonFile, optional: false).Build();
        sources.Insert(index, new ChainedConfigurationSource { Configuration = role, ShouldDisposeConfiguration = true });
    }
}
