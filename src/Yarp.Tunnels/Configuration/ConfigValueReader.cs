using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// Parses optional typed values from configuration, recording a value that does not parse as an error
/// "<c>{where}: {key} '{value}' is not …</c>" and returning <see langword="null"/> for it, so a reader collects every error.
/// </summary>
internal static class ConfigValueReader
{
    private delegate bool TryParse<T>(string value, out T result);

    /// <remarks><paramref name="key"/> may be a path below <paramref name="section"/> (e.g. <c>TcpProxy:IdleTimeout</c>); the error names it as given.</remarks>
    public static int? ReadInt(IConfiguration section, string key, string where, IList<string> errors) =>
        Read<int>(section, key, where, errors, "an integer",
            (string value, out int result) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out result));

    public static TimeSpan? ReadTimeSpan(IConfiguration section, string key, string where, IList<string> errors) =>
        Read<TimeSpan>(section, key, where, errors, "a time span (hh:mm:ss)",
            (string value, out TimeSpan result) => TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out result));

    public static bool? ReadBool(IConfiguration section, string key, string where, IList<string> errors) =>
        Read<bool>(section, key, where, errors, "a boolean (true or false)", bool.TryParse);

    public static T? ReadEnum<T>(IConfiguration section, string key, string where, IList<string> errors) where T : struct, Enum =>
        Read<T>(section, key, where, errors, $"one of {string.Join(", ", Enum.GetNames<T>())}",
            (string value, out T result) => Enum.TryParse(value, ignoreCase: true, out result) && Enum.IsDefined(result));

    /// <summary>Whether <paramref name="section"/> has the child <paramref name="key"/>, even an empty JSON object or array (a key with a null value and no children, which <c>Exists()</c> does not see).</summary>
    public static bool HasKey(IConfiguration section, string key) =>
        section.GetChildren().Any(child => string.Equals(child.Key, key, StringComparison.OrdinalIgnoreCase));

    private static T? Read<T>(IConfiguration section, string key, string where, IList<string> errors, string expected, TryParse<T> tryParse)
        where T : struct
    {
        var value = section[key];
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        if (tryParse(value, out var result))
        {
            return result;
        }
        errors.Add($"{where}: {key} '{value}' is not {expected}.");
        return null;
    }
}
