using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.ResponseHeaders;

/// <summary>
/// Holds the <c>ReverseProxy:ResponseHeaders</c> settings in force. They are validated with the listeners at host
/// start (one error list for the whole configuration) and follow the section's reloads; an invalid reload is logged
/// and the previous settings stay.
/// </summary>
internal sealed partial class ResponseHeadersManager(TunnelsConfigurationSource source, ILogger<ResponseHeadersManager> logger) : IDisposable
{
    private readonly Lock _lock = new();
    private volatile ResponseHeadersConfig _current = ResponseHeadersConfig.None;
    private IDisposable? _reloadSubscription;

    public ResponseHeadersConfig Current => _current;

    /// <summary>Reads the settings once at startup, adding every error to <paramref name="errors"/>.</summary>
    public void Load(IList<string> errors)
    {
        lock (_lock)
        {
            if (_reloadSubscription is not null)
            {
                return;
            }
            var own = new List<string>();
            var config = ResponseHeadersConfigReader.Read(source.ReverseProxy, own);
            foreach (var error in own)
            {
                errors.Add(error);
            }
            _current = config;
            if (source.ReverseProxy is { } section)
            {
                _reloadSubscription = ChangeToken.OnChange(section.GetReloadToken, Reload);
            }
        }
    }

    public void Dispose() => _reloadSubscription?.Dispose();

    private void Reload()
    {
        var errors = new List<string>();
        var config = ResponseHeadersConfigReader.Read(source.ReverseProxy, errors);
        if (errors.Count > 0)
        {
            Log.ConfigInvalid(logger, string.Join(Environment.NewLine, errors));
            return;
        }
        _current = config;
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.ResponseHeadersConfigInvalid, LogLevel.Error, "The reloaded response header settings are invalid and were not applied:\n{Errors}")]
        public static partial void ConfigInvalid(ILogger logger, string errors);
    }
}
