using System.Diagnostics.Metrics;

namespace Yarp.Tunnels.Tests.Telemetry;

/// <summary>Listens to one <see cref="Meter"/> and records every instrument it publishes and every measurement.</summary>
internal sealed class MeterCapture : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<Instrument> _instruments = [];
    private readonly List<(string Instrument, double Value, Dictionary<string, string?> Tags)> _measurements = [];

    public MeterCapture(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                lock (_instruments)
                {
                    _instruments.Add(instrument);
                }
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public IReadOnlyList<Instrument> Instruments
    {
        get
        {
            lock (_instruments)
            {
                return [.. _instruments];
            }
        }
    }

    /// <summary>Collects the observable instruments once and returns every measurement seen so far.</summary>
    public IReadOnlyList<(string Instrument, double Value, Dictionary<string, string?> Tags)> Collect()
    {
        _listener.RecordObservableInstruments();
        lock (_measurements)
        {
            return [.. _measurements];
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, string?>();
        foreach (var tag in tags)
        {
            copy.Add(tag.Key, tag.Value as string);
        }
        lock (_measurements)
        {
            _measurements.Add((instrument.Name, value, copy));
        }
    }
}
