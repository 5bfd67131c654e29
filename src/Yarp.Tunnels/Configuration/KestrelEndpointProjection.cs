using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// A Kestrel-shaped configuration: the app's own <c>Kestrel</c> section plus one <c>Endpoints</c> entry per hidden HTTP
/// endpoint (<see cref="HiddenHttpEndpoints"/>): the shared ones once the host has any listener, and one per HTTP
/// socket listener. Kestrel loads it with <c>reloadOnChange</c>, so hidden endpoints are bound and unbound live, at
/// startup or by a reload; a host without listeners keeps Kestrel's own endpoints (<c>--urls</c>, defaults).
/// </summary>
internal sealed class KestrelEndpointProjection : ConfigurationProvider, IConfigurationSource
{
    /// <summary>Prefixes projected endpoint names so they never collide with the app's own Kestrel endpoints.</summary>
    public const string EndpointPrefix = "ReverseProxy_";

    private readonly IConfiguration _kestrelSection;
    private readonly HiddenHttpEndpoints _endpoints;
    private readonly Lock _publishing = new();
    private volatile bool _sharedEndpoints;

    public KestrelEndpointProjection(IConfiguration kestrelSection, HiddenHttpEndpoints endpoints)
    {
        _kestrelSection = kestrelSection;
        _endpoints = endpoints;
        Configuration = new ConfigurationRoot([this]);
        ChangeToken.OnChange(_kestrelSection.GetReloadToken, Reload);
        endpoints.Changed += Reload;
    }

    public IConfigurationRoot Configuration { get; }

    public static string EndpointName(string key) => EndpointPrefix + key;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>Projects the shared endpoints from now on (they stay once bound: listeners may come back).</summary>
    public void IncludeSharedEndpoints()
    {
        if (!_sharedEndpoints)
        {
            _sharedEndpoints = true;
            Reload();
        }
    }

    public override void Load() => Publish();

    /// <summary>Projects the section and the endpoints; false when that is what Kestrel already has.</summary>
    private bool Publish()
    {
        // Reloads come from the app's configuration and from listener changes, on any thread: one at a time, so a
        // snapshot taken earlier is never published after a later one.
        lock (_publishing)
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var (key, value) in _kestrelSection.AsEnumerable(makePathsRelative: true))
            {
                if (value is not null)
                {
                    data[key] = value;
                }
            }
            foreach (var endpoint in (_sharedEndpoints ? _endpoints.Shared : []).Concat(_endpoints.ListenerEndpoints))
            {
                var prefix = $"Endpoints:{EndpointName(endpoint.Key)}:";
                data[prefix + "Url"] = $"http://pipe:/{endpoint.PipeName}";
                data[prefix + "Protocols"] = endpoint.Profile.Protocols.ToString();
            }
            if (data.Count == Data.Count && data.All(entry => Data.TryGetValue(entry.Key, out var value) && value == entry.Value))
            {
                return false;
            }
            Data = data;
            return true;
        }
    }

    // Kestrel re-reads the whole projection on every signal, and a listener change publishing while it reads can
    // show it an endpoint without its Url (it then fails that reload): so it is signalled only for a real change, not
    // for every reload of the app's configuration.
    private void Reload()
    {
        if (Publish())
        {
            OnReload();
        }
    }
}
