using System.Text;

namespace Yarp.Tunnels.Utilities;

/// <summary>
/// Spells a dictionary out as a connection-pool key. Length-prefixed and not hashed: equal keys must mean equal
/// content, or a hash collision would hand one downstream's state or metadata to another's upstream connection.
/// </summary>
internal static class Fingerprint
{
    public static string Of<T>(IReadOnlyDictionary<string, T>? items, Func<T, string> format)
    {
        if (items is null || items.Count == 0)
        {
            return "";
        }
        var key = new StringBuilder();
        foreach (var name in items.Keys.Order(StringComparer.Ordinal))
        {
            var value = format(items[name]);
            key.Append(name.Length).Append(':').Append(name).Append(value.Length).Append(':').Append(value).Append(';');
        }
        return key.ToString();
    }
}
