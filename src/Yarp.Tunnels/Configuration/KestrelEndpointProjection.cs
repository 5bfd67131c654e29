using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// A Kestrel-shaped configuration: the app's own <c>Kestrel</c> section plus, once the host has any listener, one
/// <c>Endpoints</c> entry per hidden HTTP endpoint (<see cref="HiddenHttpEndpoints"/>). Kestrel loads it with
/// <c>reloadOnChange</c>, so the hidden endpoints are bound when the first listener appears, at startup or by a reload;
/// a host without listeners keeps Kestrel's own endpoints (<c>--urls</c>, defaults).
/// </summary>
internal sealed class KestrelEndpointProjection : ConfigurationProvider, IConfigurationSource
{
    /// <summary>Prefixes projected endpoint names so they never collide with the app's own Kestrel endpoints.</summary>
    public const string EndpointPrefix = "ReverseProxy_";

    private readonly IConfiguration _kestrelSection;
    private readonly HiddenHttpEndpoints _endpoints;
    private volatile bool _hiddenEndpoints;

    public KestrelEndpointProjection(IConfiguration kestrelSection, HiddenHttpEndpoints endpoints)
    {
        _kestrelSection = kestrelSection;
        _endpoints = endpoints;
        Configuration = new ConfigurationRoot([this]);
        ChangeToken.OnChange(_kestrelSection.GetReloadToken, Reload);
    }

    public IConfigurationRoot Configuration { get; }

    public static string EndpointName(HttpProfile profile) => EndpointPrefix + profile.Key;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>Projects the hidden endpoints from now on (they stay once bound: listeners may come back).</summary>
    public void IncludeHiddenEndpoints()
    {
        if (!_hiddenEndpoints)
        {
            _hiddenEndpoints = true;
            Reload();
        }
    }

    public override void Load()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in _kestrelSection.AsEnumerable(makePathsRelative: true))
        {
            if (value is not null)
            {
                data[key] = value;
            }
        }
        if (_hiddenEndpoints)
        {
            foreach (var profile in HttpProfile.All)
            {
                var prefix = $"Endpoints:{EndpointName(profile)}:";
                data[prefix + "Url"] = $"http://pipe:/{_endpoints.Name(profile)}";
                data[prefix + "Protocols"] = profile.Protocols.ToString();
            }
        }
        Data = data;
    }

    private void Reload()
    {
        Load();
        OnReload();
    }
}
