using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Benchmarks.Micro;

/// <summary>Binds internal listeners straight into a registry, without a host, for the micro benchmarks.</summary>
internal static class BenchListeners
{
    private static readonly TunnelMetrics Metrics = new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    public static InternalListenerRegistry Bind(string name, IInternalConnectionAcceptor acceptor, int bufferSizeKb = InternalEndPoint.DefaultBufferSizeKb)
    {
        var registry = new InternalListenerRegistry();
        registry.Add(new InternalListenerRegistration(name, bufferSizeKb, acceptor, Metrics.Listener(StatNames.InternalListener(name))));
        return registry;
    }

    /// <summary>Closes every accepted connection at once (as an accept-and-close server does).</summary>
    public sealed class Closing : IInternalConnectionAcceptor
    {
        public bool TryAccept(ConnectionContext connection)
        {
            _ = connection.DisposeAsync();
            return true;
        }
    }

    /// <summary>Echoes every byte back until the client half-closes.</summary>
    public sealed class Echo : IInternalConnectionAcceptor
    {
        public bool TryAccept(ConnectionContext connection)
        {
            _ = EchoAsync(connection);
            return true;
        }

        private static async Task EchoAsync(ConnectionContext connection)
        {
            try
            {
                await connection.Transport.Input.CopyToAsync(connection.Transport.Output);
            }
            catch (Exception)
            {
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }
}
