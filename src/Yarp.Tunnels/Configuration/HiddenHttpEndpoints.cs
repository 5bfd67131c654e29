using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// This host's hidden HTTP endpoints, which serve every HTTP listener's connections so Kestrel's HTTP stack, limits and
/// TLS apply: one shared endpoint per cleartext profile for internal HTTP listeners (names come and go without
/// rebinding Kestrel), and one endpoint of its own per HTTP socket listener (Kestrel's per-endpoint connection limit
/// counts each listener on its own). Kestrel binds them from the reloading projection, so a host that starts with no
/// listeners can gain HTTP listeners later.
/// </summary>
internal sealed class HiddenHttpEndpoints
{
    /// <summary>
    /// How many HTTP socket listeners (running or draining) a host can have. Kestrel's endpoint callbacks must be
    /// registered before Kestrel starts (registering one while it reloads races its reload), so listener endpoints
    /// take one of these fixed names.
    /// </summary>
    public const int MaxListenerEndpoints = 256;

    private readonly ConcurrentDictionary<string, HiddenHttpEndpoint> _byPipe = new(StringComparer.Ordinal);
    private readonly Stack<string> _freeKeys = new(Enumerable.Range(0, MaxListenerEndpoints).Reverse().Select(i => $"listener_{i}"));
    private readonly Dictionary<HttpProfile, HiddenHttpEndpoint> _shared = [];
    private readonly string _pipePrefix;
    private long _generation;

    public HiddenHttpEndpoints()
    {
        // Distinguishes this host's endpoints from other hosts' in one process.
        _pipePrefix = $"yarp-tunnels.{Guid.NewGuid().ToString("N")[..12]}.";
        foreach (var profile in new[] { HttpProfile.Http1, HttpProfile.Http2, HttpProfile.Auto })
        {
            var endpoint = new HiddenHttpEndpoint(profile.Key, _pipePrefix + profile.Key, profile);
            _shared[profile] = endpoint;
            _byPipe[endpoint.PipeName] = endpoint;
        }
    }

    /// <summary>Raised when a listener endpoint is added or removed.</summary>
    public event Action? Changed;

    /// <summary>Every endpoint name the projection may use: the shared ones and the listener slots.</summary>
    public IEnumerable<string> AllKeys => _shared.Values.Select(e => e.Key).Concat(Enumerable.Range(0, MaxListenerEndpoints).Select(i => $"listener_{i}"));

    /// <summary>The shared endpoints, for internal HTTP listeners.</summary>
    public IReadOnlyCollection<HiddenHttpEndpoint> Shared => _shared.Values;

    /// <summary>The endpoints of HTTP socket listeners.</summary>
    public IEnumerable<HiddenHttpEndpoint> ListenerEndpoints => _byPipe.Values.Where(e => !_shared.ContainsValue(e)).OrderBy(e => e.Key, StringComparer.Ordinal);

    public HiddenHttpEndpoint SharedFor(HttpProfile profile) => _shared[profile];

    public bool TryGet(string pipeName, [NotNullWhen(true)] out HiddenHttpEndpoint? endpoint) => _byPipe.TryGetValue(pipeName, out endpoint);

    /// <summary>A new endpoint for one HTTP socket listener (a changed listener gets a new one while the old drains).</summary>
    /// <exception cref="InvalidOperationException">All <see cref="MaxListenerEndpoints"/> are in use.</exception>
    public HiddenHttpEndpoint AddListenerEndpoint(HttpProfile profile)
    {
        string key;
        lock (_freeKeys)
        {
            if (!_freeKeys.TryPop(out key!))
            {
                throw new InvalidOperationException($"A host can run at most {MaxListenerEndpoints} HTTP socket listeners, draining ones included.");
            }
        }
        // A fresh pipe name per start: a slot reused before Kestrel saw its removal still rebinds.
        var endpoint = new HiddenHttpEndpoint(key, $"{_pipePrefix}{key}.{Interlocked.Increment(ref _generation)}", profile);
        _byPipe[endpoint.PipeName] = endpoint;
        Changed?.Invoke();
        return endpoint;
    }

    public void Remove(HiddenHttpEndpoint endpoint)
    {
        if (_byPipe.TryRemove(endpoint.PipeName, out _))
        {
            lock (_freeKeys)
            {
                _freeKeys.Push(endpoint.Key);
            }
            Changed?.Invoke();
        }
    }
}
