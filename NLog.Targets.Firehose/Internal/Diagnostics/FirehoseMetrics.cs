using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace NLog.Targets.Firehose.Internal.Diagnostics
{
    /// <summary>
    /// The <c>System.Diagnostics.Metrics</c> meter <c>NLog.Targets.Firehose</c>: what every target sends, fails, drops and
    /// truncates, its requests, retries and throttles, bytes and estimated billed 5 KB units, request latency, records per
    /// call, queue depth, and the send rate learned from throttling per delivery stream. Usable with <c>dotnet-counters monitor --counters NLog.Targets.Firehose</c> and OpenTelemetry
    /// (<c>AddMeter("NLog.Targets.Firehose")</c>). Every measurement is tagged with the target's name.
    /// </summary>
    internal sealed class FirehoseMetrics
    {
        public const string MeterName = "NLog.Targets.Firehose";

        private static readonly Meter Meter = new Meter(MeterName, typeof(FirehoseMetrics).Assembly.GetName().Version?.ToString());
        private static readonly Counter<long> EventsSent = Meter.CreateCounter<long>("nlog.firehose.events.sent", "{event}", "Events Firehose accepted");
        private static readonly Counter<long> EventsFailed = Meter.CreateCounter<long>("nlog.firehose.events.failed", "{event}", "Events Firehose refused for good");
        private static readonly Counter<long> EventsDropped = Meter.CreateCounter<long>("nlog.firehose.events.dropped", "{event}", "Events dropped by the buffer bounds or left out (unrenderable, oversized with Drop, invalid stream)");
        private static readonly Counter<long> EventsTruncated = Meter.CreateCounter<long>("nlog.firehose.events.truncated", "{event}", "Oversized events sent truncated");
        private static readonly Counter<long> Requests = Meter.CreateCounter<long>("nlog.firehose.requests", "{request}", "PutRecordBatch calls made");
        private static readonly Counter<long> Retries = Meter.CreateCounter<long>("nlog.firehose.retries", "{request}", "Calls whose records, some or all, had to be sent again");
        private static readonly Counter<long> Throttles = Meter.CreateCounter<long>("nlog.firehose.throttles", "{throttle}", "Throttled calls and records");
        private static readonly Counter<long> BytesSent = Meter.CreateCounter<long>("nlog.firehose.bytes.sent", "By", "Record bytes Firehose accepted (as ingested: after compression, when on)");
        private static readonly Counter<long> EventBytes = Meter.CreateCounter<long>("nlog.firehose.bytes.uncompressed", "By", "The accepted events' own bytes, before compression (equal to nlog.firehose.bytes.sent without compression)");
        private static readonly Counter<long> BilledUnits = Meter.CreateCounter<long>("nlog.firehose.billed_units", "{5KB}", "Estimated billed 5 KB units: each accepted record rounded up to 5,120 bytes");
        private static readonly Histogram<double> Latency = Meter.CreateHistogram<double>("nlog.firehose.request.duration", "ms", "PutRecordBatch call latency, retries inside the client included");
        private static readonly Histogram<int> RecordsPerCall = Meter.CreateHistogram<int>("nlog.firehose.records_per_call", "{record}", "Records in a PutRecordBatch call");
        private static readonly List<FirehoseMetrics> Live = new List<FirehoseMetrics>();
        private static readonly ObservableGauge<long> QueueDepth = Meter.CreateObservableGauge("nlog.firehose.queue.depth", ObserveQueueDepth, "{event}", "Events held by the target's buffer, waiting or in flight");
        private static readonly ObservableGauge<double> LearnedRecords = Meter.CreateObservableGauge("nlog.firehose.rate.learned", () => ObserveLearned(false), "{event}/s", "Events per second a delivery stream is sent at most, learned from its throttling (tagged with the stream; 0: not limited)");
        private static readonly ObservableGauge<double> LearnedBytes = Meter.CreateObservableGauge("nlog.firehose.rate.learned.bytes", () => ObserveLearned(true), "By/s", "Event bytes per second a delivery stream is sent at most, learned from its throttling (tagged with the stream; 0: not limited)");

        private readonly KeyValuePair<string, object?> _tag;
        private readonly Func<int> _depth;
        private readonly Func<IEnumerable<KeyValuePair<string, (double Records, double Bytes)>>>? _learned;

        private FirehoseMetrics(string targetName, Func<int> depth, Func<IEnumerable<KeyValuePair<string, (double Records, double Bytes)>>>? learned)
        {
            _tag = new KeyValuePair<string, object?>("target", targetName);
            _depth = depth;
            _learned = learned;
        }

        /// <summary>Starts reporting for a target; <see cref="Stop"/> ends its queue-depth gauge.</summary>
        public static FirehoseMetrics Start(string targetName, Func<int> depth, Func<IEnumerable<KeyValuePair<string, (double Records, double Bytes)>>>? learned = null)
        {
            var metrics = new FirehoseMetrics(targetName, depth, learned);
            lock (Live)
                Live.Add(metrics);
            GC.KeepAlive(QueueDepth);
            GC.KeepAlive(LearnedRecords);
            GC.KeepAlive(LearnedBytes);
            return metrics;
        }

        public void Stop()
        {
            lock (Live)
                Live.Remove(this);
        }

        public void Sent(long events) => Add(EventsSent, events);

        public void Failed(long events) => Add(EventsFailed, events);

        public void Dropped(long events) => Add(EventsDropped, events);

        public void Truncated(long events) => Add(EventsTruncated, events);

        public void Retried() => Add(Retries, 1);

        public void Throttled(long count) => Add(Throttles, count);

        /// <summary>One call made: its records and latency.</summary>
        public void Request(int records, TimeSpan latency)
        {
            if (Requests.Enabled)
                Requests.Add(1, _tag);
            if (RecordsPerCall.Enabled)
                RecordsPerCall.Record(records, _tag);
            if (Latency.Enabled)
                Latency.Record(latency.TotalMilliseconds, _tag);
        }

        /// <summary>Records Firehose accepted in one call (packed or not): their bytes, billed units, and their events' bytes before compression.</summary>
        public void RecordsAccepted(long bytes, long billedUnits, long eventBytes)
        {
            Add(BytesSent, bytes);
            Add(BilledUnits, billedUnits);
            Add(EventBytes, eventBytes);
        }

        /// <summary>
        /// Measures only while someone listens (<see cref="Instrument.Enabled"/>): with no listener, as in most processes,
        /// a measurement costs a field read, and the meter's generic recording code is never run (nor compiled).
        /// </summary>
        private void Add(Counter<long> counter, long value)
        {
            if (value > 0 && counter.Enabled)
                counter.Add(value, _tag);
        }

        private static IEnumerable<Measurement<long>> ObserveQueueDepth()
        {
            FirehoseMetrics[] live;
            lock (Live)
                live = Live.ToArray();
            foreach (var metrics in live)
                yield return new Measurement<long>(metrics._depth(), metrics._tag);
        }

        private static IEnumerable<Measurement<double>> ObserveLearned(bool bytes)
        {
            FirehoseMetrics[] live;
            lock (Live)
                live = Live.ToArray();
            foreach (var metrics in live)
            {
                if (metrics._learned is null)
                    continue;
                foreach (var rate in metrics._learned())
                    yield return new Measurement<double>(bytes ? rate.Value.Bytes : rate.Value.Records, metrics._tag, new KeyValuePair<string, object?>("stream", rate.Key));
            }
        }
    }
}
