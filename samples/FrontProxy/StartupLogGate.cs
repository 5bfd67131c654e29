namespace FrontProxy;

/// <summary>
/// Keeps start-up failures to the one line <see cref="StartupFailure"/> prints: until the topology has started, the
/// listener manager's error entries (a bind or certificate failure, logged with its stack trace and then thrown to
/// the start-up) are not logged; from then on, they are, as usual.
/// </summary>
internal static class StartupLogGate
{
    private const string ListenerManagerCategory = "Yarp.Tunnels.Configuration.ListenerManager";

    private static volatile bool s_started;

    public static void Apply(ILoggingBuilder logging) =>
        logging.AddFilter(ListenerManagerCategory, level => level >= LogLevel.Information && (s_started || level < LogLevel.Error));

    public static void Started() => s_started = true;
}
