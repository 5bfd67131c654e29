using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>
/// ASP.NET Core's own gauges of one host (its <see cref="IMeterFactory"/> scope, so parallel tests' hosts never mix):
/// <c>http.server.active_requests</c>, <c>kestrel.active_connections</c>, <c>kestrel.active_upgraded_connections</c>.
/// Start it before the host sees traffic: it sums the changes it observes.
/// </summary>
internal sealed class HostGauges : IDisposable
{
    public const string ActiveRequests = "http.server.active_requests";
    public const string ActiveConnections = "kestrel.active_connections";
    public const string ActiveUpgradedConnections = "kestrel.active_upgraded_connections";

    private static readonly HashSet<string> Names = [ActiveRequests, ActiveConnections, ActiveUpgradedConnections];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _values = new();

    public HostGauges(IServiceProvider services)
    {
        var scope = services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, scope) && Names.Contains(instrument.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, change, _, _) => _values.AddOrUpdate(instrument.Name, change, (_, value) => value + change));
        _listener.Start();
    }

    public long this[string name] => _values.GetValueOrDefault(name);

    /// <summary>Waits (bounded) until the gauge reads <paramref name="expected"/>; fails with every gauge otherwise.</summary>
    public async Task WaitForAsync(string name, long expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (this[name] != expected)
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"Gauge {name} is {this[name]}, expected {expected}; all: {string.Join(", ", Names.Select(n => $"{n}={this[n]}"))}.");
            await Task.Delay(20);
        }
    }

    public void Dispose() => _listener.Dispose();
}
