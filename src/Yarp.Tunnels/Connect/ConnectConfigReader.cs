using Microsoft.Extensions.Configuration;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// Reads a route's <c>Connect</c> block for <see cref="Upgrades.UpgradeConfigReader"/>, recording every value that does
/// not parse as an error naming the route and key (<c>Route 'r': Connect: Policy: AllowedPorts[0] …</c>).
/// </summary>
internal static class ConnectConfigReader
{
    public static ConnectConfig Read(IConfigurationSection connect, string where, IList<string> errors)
    {
        var policy = connect.GetSection(nameof(ConnectConfig.Policy));
        var policyWhere = $"{where}: {nameof(ConnectConfig.Policy)}";
        var defaults = new ConnectPolicyConfig();
        var tls = connect.GetSection(nameof(ConnectConfig.TlsOrigination));
        var tlsWhere = $"{where}: {nameof(ConnectConfig.TlsOrigination)}";
        return new ConnectConfig
        {
            Enabled = ConfigValueReader.ReadBool(connect, nameof(ConnectConfig.Enabled), where, errors) ?? true,
            Mode = ConfigValueReader.ReadEnum<ConnectMode>(connect, nameof(ConnectConfig.Mode), where, errors) ?? ConnectMode.Terminate,
            AllowPost = ConfigValueReader.ReadBool(connect, nameof(ConnectConfig.AllowPost), where, errors) ?? false,
            ProxyProtocol = ConfigValueReader.ReadEnum<ProxyProtocolVersion>(connect, nameof(ConnectConfig.ProxyProtocol), where, errors),
            ConnectTimeout = ConfigValueReader.ReadTimeSpan(connect, nameof(ConnectConfig.ConnectTimeout), where, errors) ?? new ConnectConfig().ConnectTimeout,
            Decapsulate = ConfigValueReader.ReadBool(connect, nameof(ConnectConfig.Decapsulate), where, errors) ?? false,
            Policy = new ConnectPolicyConfig
            {
                AllowedPorts = ConfigValueReader.HasKey(policy, nameof(ConnectPolicyConfig.AllowedPorts))
                    ? policy.GetSection(nameof(ConnectPolicyConfig.AllowedPorts)).GetChildren()
                        .Select(port => ConfigValueReader.ReadInt(policy, $"{nameof(ConnectPolicyConfig.AllowedPorts)}:{port.Key}", policyWhere, errors))
                        .OfType<int>().ToList()
                    : defaults.AllowedPorts,
                AllowedHosts = ConfigValueReader.HasKey(policy, nameof(ConnectPolicyConfig.AllowedHosts))
                    ? policy.GetSection(nameof(ConnectPolicyConfig.AllowedHosts)).GetChildren().Select(host => host.Value ?? "").ToList()
                    : defaults.AllowedHosts,
                AllowLoopback = ConfigValueReader.ReadBool(policy, nameof(ConnectPolicyConfig.AllowLoopback), policyWhere, errors) ?? false,
                AllowPrivate = ConfigValueReader.ReadBool(policy, nameof(ConnectPolicyConfig.AllowPrivate), policyWhere, errors) ?? false,
                AuthorizationPolicy = policy[nameof(ConnectPolicyConfig.AuthorizationPolicy)],
            },
            TlsOrigination = ConfigValueReader.HasKey(connect, nameof(ConnectConfig.TlsOrigination))
                ? new ConnectTlsOriginationConfig
                {
                    Enabled = ConfigValueReader.ReadBool(tls, nameof(ConnectTlsOriginationConfig.Enabled), tlsWhere, errors) ?? true,
                    ServerName = tls[nameof(ConnectTlsOriginationConfig.ServerName)],
                    ValidateCertificate = ConfigValueReader.ReadBool(tls, nameof(ConnectTlsOriginationConfig.ValidateCertificate), tlsWhere, errors) ?? true,
                }
                : null,
        };
    }
}
