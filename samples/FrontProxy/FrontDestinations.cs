namespace FrontProxy;

/// <summary>
/// The front's cluster destinations as configuration (<c>ReverseProxy:Clusters:&lt;service&gt;:Destinations</c>), generated
/// from the replicas that serve: YARP and Yarp.Tunnels see each change as a configuration reload.
/// </summary>
internal sealed class FrontDestinations : ConfigurationProvider, IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>Replaces every generated destination; reloads only when something changed.</summary>
    /// <param name="destinations">Per cluster id, its destinations (id, address).</param>
    public void Set(IEnumerable<(string Cluster, string Id, string Address)> destinations)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (cluster, id, address) in destinations)
        {
            data[$"ReverseProxy:Clusters:{cluster}:Destinations:{id}:Address"] = address;
        }
        lock (this)
        {
            if (data.Count == Data.Count && data.All(kv => Data.TryGetValue(kv.Key, out var value) && value == kv.Value))
            {
                return;
            }
            Data = data;
        }
        OnReload();
    }

    /// <summary>The <c>--service1</c> / <c>--service2</c> lists (front role): comma-separated sidecar addresses per service.</summary>
    public static IEnumerable<(string Cluster, string Id, string Address)> FromSwitches(IConfiguration configuration) =>
        configuration.GetSection($"{SampleOptions.Section}:Services").GetChildren()
            .SelectMany(service => (service["Destinations"] ?? "")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select((address, index) => (service.Key, $"{service.Key}-{index + 1}", Addresses.Destination(address, "--" + service.Key))));
}
