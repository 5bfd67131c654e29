namespace Yarp.Tunnels.Connect;

/// <summary>
/// Validates a route's <c>Connect</c> block for <see cref="Upgrades.UpgradeConfigValidator"/>, adding every error (each
/// naming the route and key) and returning the validated settings when there is none.
/// </summary>
internal static class ConnectConfigValidator
{
    public static ConnectRoute? Validate(ConnectConfig config, string where, IList<string> errors)
    {
        var before = errors.Count;
        if (!Enum.IsDefined(config.Mode))
        {
            errors.Add($"{where}: Mode '{config.Mode}' is not Terminate or Proxy.");
        }
        if (config.ProxyProtocol is { } version && !Enum.IsDefined(version))
        {
            errors.Add($"{where}: ProxyProtocol '{version}' is not v1 or v2.");
        }

        if (config.ConnectTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{where}: ConnectTimeout must be positive.");
        }

        var policy = config.Policy ?? new ConnectPolicyConfig();
        var policyWhere = $"{where}: Policy";
        var ports = policy.AllowedPorts ?? [];
        for (var i = 0; i < ports.Count; i++)
        {
            if (ports[i] is < 1 or > 65535)
            {
                errors.Add($"{policyWhere}: AllowedPorts[{i}] {ports[i]} is not a port (1-65535).");
            }
        }
        var hosts = policy.AllowedHosts ?? [];
        for (var i = 0; i < hosts.Count; i++)
        {
            if (!ConnectTargetPolicy.HostRule.TryParse(hosts[i], out _))
            {
                errors.Add($"{policyWhere}: AllowedHosts[{i}] '{hosts[i]}' is not a host pattern (name, *.suffix, * or an IP literal, optionally with :port).");
            }
        }
        if (policy.AuthorizationPolicy is { } name && string.IsNullOrWhiteSpace(name))
        {
            errors.Add($"{policyWhere}: AuthorizationPolicy is empty; remove it or name a policy.");
        }

        var tls = config.TlsOrigination is { Enabled: true } origination ? origination : null;
        if (tls?.ServerName is { } serverName && Uri.CheckHostName(serverName) != UriHostNameType.Dns)
        {
            errors.Add($"{where}: TlsOrigination: ServerName '{serverName}' is not a DNS name.");
        }

        return errors.Count > before
            ? null
            : new ConnectRoute(config.Enabled, config.Mode, config.AllowPost, config.ProxyProtocol,
                new ConnectTargetPolicy(policy with { AllowedPorts = ports, AllowedHosts = hosts }), tls, config.ConnectTimeout, config.Decapsulate);
    }
}
