using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Yarp.Tunnels.Admin;

/// <summary>
/// Hides secrets in what the admin endpoint shows: the value of every key whose name says it holds one (a certificate
/// <c>Password</c>, <c>…Secret</c>, <c>…Token</c>, <c>Authorization</c>, API keys, connection strings), and the values
/// next to a header name that does (a transform <c>{"RequestHeader": "Authorization", "Set": "…"}</c>, a
/// <c>Proxy-Authorization</c> header to add).
/// </summary>
internal static partial class ConfigRedactor
{
    public const string Redacted = "[redacted]";

    /// <summary>Whether a key (or header) name marks its value as a secret.</summary>
    public static bool IsSecret(string name) => SecretName().IsMatch(name);

    /// <summary>Redacts <paramref name="node"/> in place and returns it.</summary>
    public static JsonNode? Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var namesSecretHeader = obj.Any(static p => p.Value is JsonValue v && v.TryGetValue<string>(out var s) && HeaderName().IsMatch(s) && IsSecret(s));
                foreach (var (key, value) in obj.ToList())
                {
                    if (value is null)
                    {
                        continue;
                    }
                    var isHeaderName = value is JsonValue v && v.TryGetValue<string>(out var s) && HeaderName().IsMatch(s) && IsSecret(s);
                    if (IsSecret(key))
                    {
                        // A secret-named section (ConnectionStrings, Secrets) hides every value inside it.
                        obj[key] = value is JsonValue ? Redacted : RedactAll(value);
                    }
                    else if (namesSecretHeader && value is JsonValue && !isHeaderName)
                    {
                        obj[key] = Redacted;
                    }
                    else
                    {
                        Redact(value);
                    }
                }
                return obj;
            case JsonArray array:
                foreach (var item in array)
                {
                    Redact(item);
                }
                return array;
            default:
                return node;
        }
    }

    private static JsonNode RedactAll(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    obj[key] = value is null ? null : RedactAll(value);
                }
                return obj;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    array[i] = array[i] is { } item ? RedactAll(item) : null;
                }
                return array;
            default:
                return Redacted;
        }
    }

    /// <summary>Command-line arguments with the values of secret-named options hidden (<c>--Db:Password=x</c>, <c>--token x</c>).</summary>
    public static IEnumerable<string> RedactArguments(IEnumerable<string> arguments)
    {
        var hideNext = false;
        foreach (var argument in arguments)
        {
            if (hideNext)
            {
                hideNext = false;
                yield return Redacted;
                continue;
            }
            var equals = argument.IndexOf('=', StringComparison.Ordinal);
            var name = equals >= 0 ? argument[..equals] : argument;
            if (!IsSecret(name))
            {
                yield return argument;
            }
            else if (equals >= 0)
            {
                yield return name + "=" + Redacted;
            }
            else
            {
                hideNext = argument.StartsWith('-') || argument.StartsWith('/');
                yield return argument;
            }
        }
    }

    [GeneratedRegex("password|passwd|pwd|secret|token|api[-_]?key|credential|private[-_]?key|authorization|connectionstring|cookie", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex HeaderName();
}
