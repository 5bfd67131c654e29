using System.Buffers;
using System.Collections.Frozen;
using Yarp.Tunnels.Connect;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// Validates the upgrade settings of configuration and code together, collecting every error without short-circuiting,
/// each naming the list entry or route and the key, and builds the <see cref="UpgradePolicy"/>.
/// </summary>
internal static class UpgradeConfigValidator
{
    // RFC 9110 §5.6.2 tchar; an upgrade protocol is token ["/" token] (§7.8).
    private static readonly SearchValues<char> _tchar =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    public static UpgradePolicy Validate(UpgradesConfig fromConfig, UpgradesConfig fromCode, IReadOnlySet<string> chains, IList<string> errors)
    {
        Dictionary<string, UpgradeConfig>? gateway = null;
        if (fromConfig.Gateway is not null || fromCode.Gateway is not null)
        {
            gateway = new Dictionary<string, UpgradeConfig>(StringComparer.OrdinalIgnoreCase);
            var entries = (fromConfig.Gateway ?? []).Select((e, i) => (Where: $"Upgrades[{i}]", Entry: e))
                .Concat((fromCode.Gateway ?? []).Select((e, i) => (Where: $"TunnelUpgradeOptions.Upgrades[{i}]", Entry: e)));
            foreach (var (where, entry) in entries)
            {
                if (entry.Chain is { } chain && !chains.Contains(chain))
                {
                    errors.Add($"{where}: Chain '{chain}' is not registered (register it with AddUpgradeChain(\"{chain}\", …)).");
                }
                if (ValidateType(entry.UpgradeType, where, errors) && !gateway.TryAdd(entry.UpgradeType!, entry))
                {
                    errors.Add($"{where}: UpgradeType '{entry.UpgradeType}' is listed more than once.");
                }
            }
        }

        var routes = new Dictionary<string, UpgradePolicy.RoutePolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var (routeId, settings) in fromConfig.Routes.Concat(fromCode.Routes))
        {
            var where = $"Route '{routeId}'";
            if (routes.ContainsKey(routeId))
            {
                errors.Add($"{where}: upgrade settings are declared both in configuration and in code; keep one.");
                continue;
            }
            var upgrades = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < settings.Upgrades.Count; i++)
            {
                var entry = settings.Upgrades[i];
                var entryWhere = $"{where}: Upgrades[{i}]";
                if (!ValidateType(entry.UpgradeType, entryWhere, errors))
                {
                    continue;
                }
                if (string.Equals(entry.UpgradeType, UpgradeRequest.ConnectType, StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add($"{entryWhere}: CONNECT is switched per route by the route's Connect block (Connect:Enabled), not by Upgrades.");
                }
                else if (!upgrades.TryAdd(entry.UpgradeType!, entry.Enabled))
                {
                    errors.Add($"{entryWhere}: UpgradeType '{entry.UpgradeType}' is listed more than once.");
                }
            }
            if (settings.UpgradeIdleTimeout is { } idle && idle <= TimeSpan.Zero)
            {
                errors.Add($"{where}: {UpgradeConfigReader.IdleTimeoutKey} must be positive.");
            }
            var connect = settings.Connect is { } block ? ConnectConfigValidator.Validate(block, $"{where}: {UpgradeConfigReader.ConnectKey}", errors) : null;
            routes[routeId] = new UpgradePolicy.RoutePolicy(upgrades.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
                connect, settings.UpgradeIdleTimeout);
        }

        return new UpgradePolicy(gateway?.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            routes.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>Whether <paramref name="value"/> is an upgrade protocol as RFC 9110 spells it: <c>token ["/" token]</c>.</summary>
    public static bool IsUpgradeToken(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        return slash < 0
            ? !value.AsSpan().ContainsAnyExcept(_tchar)
            : slash > 0 && slash < value.Length - 1
                && !value.AsSpan(0, slash).ContainsAnyExcept(_tchar) && !value.AsSpan(slash + 1).ContainsAnyExcept(_tchar);
    }

    private static bool ValidateType(string? type, string where, IList<string> errors)
    {
        if (string.IsNullOrWhiteSpace(type))
        {
            errors.Add($"{where}: UpgradeType is required.");
            return false;
        }
        if (!IsUpgradeToken(type))
        {
            errors.Add($"{where}: UpgradeType '{type}' is not a valid upgrade token (RFC 9110: token or token/version).");
            return false;
        }
        return true;
    }
}
