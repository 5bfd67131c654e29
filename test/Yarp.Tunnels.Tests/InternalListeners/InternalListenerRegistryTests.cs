using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Tests.InternalListeners;

public class InternalListenerRegistryTests
{
    [Fact]
    public async Task Connect_BacklogFullThenUnbound_BusyThenNotFound()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var registry = new InternalListenerRegistry();
        var transport = new InternalTransportFactory(registry, new TunnelMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        // Bound by the real transport, but nothing accepts: connections queue in the backlog.
        var listener = await transport.BindAsync(new InternalEndPoint("busy"));
        var queued = new List<InternalStream>();
        try
        {
            while (queued.Count < InternalConnectionListener.Backlog)
            {
                queued.Add(registry.Connect("busy"));
            }

            var busy = Assert.Throws<InternalListenerBusyException>(() => registry.Connect("busy"));
            Assert.Equal("busy", busy.ListenerName);
            Assert.Equal(InternalConnectionListener.Backlog, busy.Backlog);

            await listener.UnbindAsync();
            Assert.Equal("busy", Assert.Throws<InternalListenerNotFoundException>(() => registry.Connect("busy")).ListenerName);
        }
        finally
        {
            queued.ForEach(q => q.Dispose());
            await listener.DisposeAsync();
        }
    }
}
