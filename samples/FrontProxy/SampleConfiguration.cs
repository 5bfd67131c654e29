using System.Collections;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace FrontProxy;

/// <summary>The sample's configuration sources beside WebApplication's defaults, and copies of it for the in-process hosts.</summary>
internal static partial class SampleConfiguration
{
    /// <summary>
    /// Adds <c>SERVICE&lt;N&gt;_REPLICAS</c> (as <c>FrontProxy:Services:service&lt;N&gt;:Replicas</c>, like the sandbox's
    /// <c>docker compose scale</c>) and the command-line switches of <see cref="SampleOptions.Switches"/>.
    /// </summary>
    public static void AddSampleSources(this IConfigurationBuilder configuration, string[] args)
    {
        var replicas = new Dictionary<string, string?>();
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            if (variable.Key is string name && ReplicasVariable().Match(name) is { Success: true } match)
            {
                replicas[$"{SampleOptions.Section}:Services:service{match.Groups[1].Value}:Replicas"] = variable.Value as string;
            }
        }
        configuration.AddInMemoryCollection(replicas);
        configuration.AddCommandLine(args, SampleOptions.Switches.ToDictionary());
    }

    /// <summary>
    /// The configuration of an in-process host: the root's <c>Logging</c> and <c>OTEL_*</c> settings plus
    /// <paramref name="values"/> (flat keys), never the front's listeners.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string?>> ForHost(IConfiguration root, IEnumerable<KeyValuePair<string, string?>> values) =>
        root.GetSection("Logging").AsEnumerable()
            .Concat(root.AsEnumerable().Where(kv => kv.Key.StartsWith("OTEL_", StringComparison.OrdinalIgnoreCase)))
            .Where(kv => kv.Value is not null)
            .Concat(values);

    /// <summary>The keys of <paramref name="section"/> relative to it (e.g. <c>ReverseProxy:Routes:…</c> of <c>Sidecar</c>).</summary>
    public static IEnumerable<KeyValuePair<string, string?>> Relative(IConfigurationSection section) =>
        section.AsEnumerable(makePathsRelative: true).Where(kv => kv.Value is not null);

    [GeneratedRegex("^SERVICE([0-9]+)_REPLICAS$", RegexOptions.IgnoreCase)]
    private static partial Regex ReplicasVariable();
}
