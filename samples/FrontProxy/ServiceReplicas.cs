namespace FrontProxy;

/// <summary>The replica counts under <c>FrontProxy:Services</c> (<c>service&lt;N&gt;: { Replicas }</c>).</summary>
internal static class ServiceReplicas
{
    public const int Max = 64;

    /// <summary>Replica names per service number, e.g. 1 → service1-1, service1-2; throws naming a bad entry.</summary>
    public static IReadOnlyList<(int Service, string Cluster, string Replica)> Read(IConfiguration configuration)
    {
        var replicas = new List<(int, string, string)>();
        foreach (var service in configuration.GetSection($"{SampleOptions.Section}:Services").GetChildren())
        {
            if (!service.Key.StartsWith("service", StringComparison.Ordinal) || !int.TryParse(service.Key["service".Length..], out var number) || number < 1)
            {
                throw new StartupException($"FrontProxy:Services:{service.Key}: services are named service1, service2, …");
            }
            var text = service["Replicas"] ?? "1";
            if (!int.TryParse(text, out var count) || count is < 0 or > Max)
            {
                throw new StartupException($"FrontProxy:Services:{service.Key}:Replicas '{text}' is not a replica count (0 to {Max})");
            }
            for (var i = 1; i <= count; i++)
            {
                replicas.Add((number, service.Key, $"{service.Key}-{i}"));
            }
        }
        return replicas;
    }
}
