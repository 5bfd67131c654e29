using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// Holds the current <see cref="UpgradePolicy"/>, built from the <c>ReverseProxy</c> section and
/// <see cref="TunnelUpgradeOptions"/>. It is loaded with the listeners at host start (one list of errors for the
/// whole Yarp.Tunnels configuration) and reloads with the section; an invalid reload is logged and not applied.
/// </summary>
internal sealed partial class UpgradePolicyManager : IDisposable
{
    private readonly TunnelsConfigurationSource _source;
    private readonly TunnelUpgradeOptions _codeOptions;
    private readonly HashSet<string> _chains;
    private readonly ILogger<UpgradePolicyManager> _logger;
    private readonly Lock _lock = new();
    private volatile UpgradePolicy? _current;
    private bool _pipelineMapped;
    private IDisposable? _reloadSubscription;

    public UpgradePolicyManager(TunnelsConfigurationSource source, IOptions<TunnelUpgradeOptions> codeOptions,
        IEnumerable<UpgradeChain> chains, ILogger<UpgradePolicyManager> logger)
    {
        _source = source;
        _codeOptions = codeOptions.Value;
        _chains = chains.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        _logger = logger;
    }

    /// <summary>The policy in force; loaded when the host starts.</summary>
    public UpgradePolicy Current => _current
        ?? throw new InvalidOperationException("The Yarp.Tunnels upgrade policy is loaded when the host starts (AddTunnels registers it).");

    /// <summary>Records that <c>MapTunnelsReverseProxy</c> built the proxy pipeline, so the policy is enforced.</summary>
    public void MarkPipelineMapped()
    {
        lock (_lock)
        {
            _pipelineMapped = true;
        }
    }

    /// <summary>Loads the policy once, adding every error to <paramref name="errors"/>; applies it only when it has none.</summary>
    public void Load(IList<string> errors)
    {
        lock (_lock)
        {
            if (_current is not null)
            {
                return;
            }
            var own = new List<string>();
            var policy = Build(own);
            foreach (var error in own)
            {
                errors.Add(error);
            }
            if (own.Count > 0)
            {
                return;
            }
            _current = policy;
            if (policy.HasSettings && !_pipelineMapped)
            {
                Log.PipelineNotMapped(_logger);
            }
            if (_source.ReverseProxy is { } section)
            {
                _reloadSubscription = ChangeToken.OnChange(section.GetReloadToken, Reload);
            }
        }
    }

    public void Dispose() => _reloadSubscription?.Dispose();

    private UpgradePolicy Build(List<string> errors) =>
        UpgradeConfigValidator.Validate(UpgradeConfigReader.Read(_source.ReverseProxy, errors), UpgradesConfig.From(_codeOptions), _chains, errors);

    private void Reload()
    {
        var errors = new List<string>();
        var policy = Build(errors);
        if (errors.Count > 0)
        {
            Log.ConfigInvalid(_logger, string.Join(Environment.NewLine, errors));
            return;
        }
        _current = policy;
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.UpgradeConfigInvalid, LogLevel.Error, "The reloaded upgrade configuration is invalid and was not applied:\n{Errors}")]
        public static partial void ConfigInvalid(ILogger logger, string errors);

        [LoggerMessage(EventIds.UpgradePipelineNotMapped, LogLevel.Warning,
            "Upgrade settings are configured, but the proxy was mapped without MapTunnelsReverseProxy(), so they are not enforced (YARP's MapReverseProxy() proxies WebSockets only).")]
        public static partial void PipelineNotMapped(ILogger logger);
    }
}
