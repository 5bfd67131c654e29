using System.Net.Sockets;
using System.Reflection;

namespace Yarp.Tunnels.Utilities;

/// <summary>
/// Runs one socket's completions on the runtime's socket event thread instead of handing each to the thread pool: .NET's
/// per-socket form of <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>, the internal <c>Socket.PreferInlineCompletions</c>
/// (an experimental API the runtime keeps reachable for reflection; the event loop reads it on every event). For the
/// relay's spliced sockets alone: their continuations are two non-blocking <c>splice</c> calls and the next wait, and
/// the hand-off they save is most of the CPU a small relayed message costs. Everything else keeps the thread pool, so a
/// slow continuation elsewhere never holds up the event thread. Where the runtime has no such property, nothing changes.
/// </summary>
internal static class InlineSocketCompletions
{
    private static readonly Action<Socket, bool>? SetPreferInline = typeof(Socket)
        .GetProperty("PreferInlineCompletions", BindingFlags.Instance | BindingFlags.NonPublic)?.SetMethod?
        .CreateDelegate<Action<Socket, bool>>();

    /// <summary>Whether this runtime lets a socket's completions run inline.</summary>
    public static bool IsSupported => SetPreferInline is not null;

    /// <summary>Makes <paramref name="socket"/>'s completions run inline (or on the thread pool again).</summary>
    public static void Prefer(Socket socket, bool inline) => SetPreferInline?.Invoke(socket, inline);
}
