using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using NLog.Targets.Firehose.Internal.Diagnostics;

namespace NLog.Targets.Firehose.Tests.Support
{
    /// <summary>
    /// Every measurement the meter <c>NLog.Targets.Firehose</c> reports for one target (its <c>target</c> tag), read with a
    /// <see cref="MeterListener"/> as dotnet-counters and OpenTelemetry do.
    /// </summary>
    internal sealed class TargetMeasurements : IDisposable
    {
        private readonly MeterListener _listener = new MeterListener();
        private readonly ConcurrentQueue<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _seen = new();
        private readonly string _target;

        public TargetMeasurements(string target)
        {
            _target = target;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == FirehoseMetrics.MeterName)
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
            _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
            _listener.Start();
        }

        /// <summary>Asks the observable instruments (the gauges) for their values now.</summary>
        public void ObserveGauges() => _listener.RecordObservableInstruments();

        /// <summary>The sum of what <paramref name="instrument"/> reported (0 when nothing).</summary>
        public double Sum(string instrument) => _seen.Where(m => m.Instrument == instrument).Sum(m => m.Value);

        /// <summary>How many measurements <paramref name="instrument"/> reported (a histogram's recordings).</summary>
        public int Count(string instrument) => _seen.Count(m => m.Instrument == instrument);

        /// <summary>The last value <paramref name="instrument"/> reported with <paramref name="tag"/> = <paramref name="value"/>, if any.</summary>
        public double? Last(string instrument, string tag, string value) =>
            _seen.Where(m => m.Instrument == instrument && m.Tags.Any(t => t.Key == tag && (string?)t.Value == value))
                .Select(m => (double?)m.Value).LastOrDefault();

        public void Dispose() => _listener.Dispose();

        private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var tagged = tags.ToArray();
            if (tagged.Any(t => t.Key == "target" && (string?)t.Value == _target))
                _seen.Enqueue((instrument.Name, value, tagged));
        }
    }
}
