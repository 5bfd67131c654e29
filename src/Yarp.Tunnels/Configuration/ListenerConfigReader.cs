using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Yarp.Tunnels.Configuration;

/// <summary>Reads <c>ReverseProxy:Listeners</c>, recording every value that does not parse as an error naming the listener and key.</summary>
internal static class ListenerConfigReader
{
    public static List<ListenerConfig> Read(IConfiguration? listenersSection, IList<string> errors)
    {
        var result = new List<ListenerConfig>();
        if (listenersSection is null)
        {
            return result;
        }

        foreach (var section in listenersSection.GetChildren())
        {
            var name = section.Key;
            var tcp = section.GetSection("TcpProxy");
            var certificate = section.GetSection("Certificate");
            result.Add(new ListenerConfig
            {
                Name = name,
                Address = section["Address"],
                Protocols = ReadEnum<ListenerProtocols>(section, "Protocols", name, errors),
                BufferSizeKb = ReadInt(section, "BufferSizeKb", name, errors),
                DrainTimeout = ReadTimeSpan(section, "DrainTimeout", name, errors),
                StatPrefix = section["StatPrefix"],
                Certificate = certificate.Exists()
                    ? new ListenerCertificateConfig { Path = certificate["Path"], KeyPath = certificate["KeyPath"], Password = certificate["Password"] }
                    : null,
                TcpProxy = tcp.Exists()
                    ? new TcpProxyConfig
                    {
                        ClusterId = tcp["ClusterId"],
                        StatPrefix = tcp["StatPrefix"],
                        IdleTimeout = ReadTimeSpan(tcp, "IdleTimeout", name, errors),
                        ConnectTimeout = ReadTimeSpan(tcp, "ConnectTimeout", name, errors),
                    }
                    : null,
            });
        }
        return result;
    }

    private static int? ReadInt(IConfiguration section, string key, string listener, IList<string> errors)
    {
        var value = section[key];
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result))
        {
            return result;
        }
        errors.Add($"Listener '{listener}': {Path(section, key)} '{value}' is not an integer.");
        return null;
    }

    private static TimeSpan? ReadTimeSpan(IConfiguration section, string key, string listener, IList<string> errors)
    {
        var value = section[key];
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        if (TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var result))
        {
            return result;
        }
        errors.Add($"Listener '{listener}': {Path(section, key)} '{value}' is not a time span (hh:mm:ss).");
        return null;
    }

    private static T? ReadEnum<T>(IConfiguration section, string key, string listener, IList<string> errors) where T : struct, Enum
    {
        var value = section[key];
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        if (Enum.TryParse<T>(value, ignoreCase: true, out var result) && Enum.IsDefined(result))
        {
            return result;
        }
        errors.Add($"Listener '{listener}': {Path(section, key)} '{value}' is not one of {string.Join(", ", Enum.GetNames<T>())}.");
        return null;
    }

    private static string Path(IConfiguration section, string key) =>
        section is IConfigurationSection { Key: "TcpProxy" } ? "TcpProxy:" + key : key;
}
