using Microsoft.Extensions.Configuration;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.ResponseHeaders;

/// <summary>Reads and validates <c>ReverseProxy:ResponseHeaders</c>, adding every error to the list.</summary>
internal static class ResponseHeadersConfigReader
{
    public const string SectionName = "ResponseHeaders";
    private const string Where = "ResponseHeaders";

    public static ResponseHeadersConfig Read(IConfiguration? reverseProxySection, IList<string> errors)
    {
        var section = reverseProxySection?.GetSection(SectionName);
        if (section is null || !section.Exists())
        {
            return ResponseHeadersConfig.None;
        }

        var serverName = section["ServerName"];
        if (serverName is not null && !IsHeaderValue(serverName))
        {
            errors.Add($"{Where}: ServerName '{serverName}' must be a non-empty header value (visible ASCII and spaces, no leading or trailing space).");
            serverName = null;
        }
        var transformation = ConfigValueReader.ReadEnum<ServerHeaderTransformation>(section, "ServerHeaderTransformation", Where, errors);
        if (transformation is not null and not ServerHeaderTransformation.PassThrough && section["ServerName"] is null)
        {
            errors.Add($"{Where}: ServerHeaderTransformation '{transformation}' needs a ServerName to set.");
        }

        var timeHeader = section["UpstreamServiceTimeHeader"];
        if (timeHeader is { Length: 0 })
        {
            timeHeader = null;
        }
        else if (timeHeader is not null && !IsToken(timeHeader))
        {
            errors.Add($"{Where}: UpstreamServiceTimeHeader '{timeHeader}' is not a valid header name.");
            timeHeader = null;
        }
        return new ResponseHeadersConfig(serverName, transformation ?? ServerHeaderTransformation.Overwrite, timeHeader);
    }

    /// <summary>Whether Kestrel's own <c>Server</c> header should be off: the section, as it is at startup, sets one.</summary>
    public static bool ConfiguresServerHeader(IConfiguration? reverseProxySection) =>
        reverseProxySection?.GetSection(SectionName) is { } section
        && (!string.IsNullOrEmpty(section["ServerName"]) || !string.IsNullOrEmpty(section["ServerHeaderTransformation"]));

    // RFC 9110 §5.6.2 token.
    private static bool IsToken(string value) =>
        value.Length > 0 && value.All(c => c < 127 && (char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)));

    private static bool IsHeaderValue(string value) =>
        value.Length > 0 && value[0] != ' ' && value[^1] != ' ' && value.All(c => c is >= ' ' and < (char)127);
}
