using System.Text;

namespace FrontProxy;

/// <summary>A start-up input error the sample detected itself (an unknown role, a missing address…).</summary>
internal sealed class StartupException(string message) : Exception(message);

/// <summary>Turns what stopped the start-up into the one line the sample prints before it exits with 1.</summary>
internal static class StartupFailure
{
    public const string Prefix = "FrontProxy: cannot start: ";

    public static string Describe(Exception exception)
    {
        // Each layer usually repeats its cause's message; keep every message that adds something, outermost first.
        var line = new StringBuilder();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            var message = current.Message.Trim().TrimEnd('.');
            if (message.Length > 0 && !line.ToString().Contains(message, StringComparison.OrdinalIgnoreCase))
            {
                line.Append(line.Length == 0 ? "" : ": ").Append(message);
            }
        }
        return Prefix + line.ToString().ReplaceLineEndings(" ");
    }

}
