using System;
using System.Threading;

namespace NLog.Targets.Firehose.Internal.Diagnostics
{
    /// <summary>
    /// The one ledger of a target's counts: every part books here, and the meter (while the target runs), the
    /// InternalLogger lines and the tests read from here. It lives as long as the target, so the counts add up across
    /// reconfigurations. Thread-safe.
    /// </summary>
    internal sealed class TargetStatistics
    {
        private long _queueDropped;
        private FirehoseMetrics? _meter;
        private long _handedOver;
        private long _handOvers;
        private long _handOverRestarts;
        private long _handOverRearms;
        private long _calls;
        private long _rateDecreases;
        private long _rateDecreasesUndone;
        private long _delivered;
        private long _rejected;
        private long _records;
        private long _billedUnits;
        private long _ingestedBytes;
        private long _eventBytes;
        private long _retries;
        private long _throttles;
        private long _nlogQueueDropped;
        private long _leftOut;
        private long _truncated;
        private long _repaired;
        private long _undeliveredAtClose;
        private long _keptOnDiskAtClose;

        /// <summary>Events NLog has handed to the target.</summary>
        public long HandedOverEvents => Interlocked.Read(ref _handedOver);

        /// <summary>NLog's hand-overs begun.</summary>
        public long HandOvers => Interlocked.Read(ref _handOvers);

        /// <summary>How often NLog's hand-over had stopped with events waiting and the target restarted it (NLog issue #4890).</summary>
        public long HandOverRestarts => Interlocked.Read(ref _handOverRestarts);

        /// <summary>
        /// How often the look after one of NLog's continuations of a hand-over found events in NLog's queue and its writer
        /// gone, and armed the writer's timer (<see cref="NLogQueueWatch.RearmIfStopped"/>): the stops the watch no longer
        /// has to find, and races the logging thread would have won.
        /// </summary>
        public long HandOverRearms => Interlocked.Read(ref _handOverRearms);

        /// <summary>PutRecordBatch calls made.</summary>
        public long Calls => Interlocked.Read(ref _calls);

        /// <summary>Events Firehose accepted.</summary>
        public long DeliveredEvents => Interlocked.Read(ref _delivered);

        /// <summary>Events Firehose refused for good (a per-record error retrying cannot cure).</summary>
        public long RejectedEvents => Interlocked.Read(ref _rejected);

        /// <summary>Firehose records accepted (a packed record counts once).</summary>
        public long Records => Interlocked.Read(ref _records);

        /// <summary>Billed 5 KB units of the records accepted: each record rounded up to 5,120 bytes.</summary>
        public long BilledUnits => Interlocked.Read(ref _billedUnits);

        /// <summary>Calls whose records (some or all) had to be sent again.</summary>
        public long Retries => Interlocked.Read(ref _retries);

        /// <summary>Throttled calls and records.</summary>
        public long Throttles => Interlocked.Read(ref _throttles);

        /// <summary>Events dropped to stay within the bounds: by the buffer, or by NLog's hand-over queue (counted in both).</summary>
        public long QueueDroppedEvents => Interlocked.Read(ref _queueDropped);

        /// <summary>Events NLog's hand-over queue dropped (it was full).</summary>
        public long NLogQueueDroppedEvents => Interlocked.Read(ref _nlogQueueDropped);

        /// <summary>Events left out before buffering: oversized with <c>Drop</c>, not renderable, or an invalid or failing stream.</summary>
        public long DroppedEvents => Interlocked.Read(ref _leftOut);

        /// <summary>Oversized events sent truncated.</summary>
        public long TruncatedEvents => Interlocked.Read(ref _truncated);

        /// <summary>Events sent with lone surrogates replaced by U+FFFD.</summary>
        public long RepairedEvents => Interlocked.Read(ref _repaired);

        /// <summary>Events still undelivered when the target closed.</summary>
        public long UndeliveredAtClose => Interlocked.Read(ref _undeliveredAtClose);

        /// <summary>Events left in the durable buffer when the target closed, to be sent at the next start.</summary>
        public long KeptOnDiskAtClose => Interlocked.Read(ref _keptOnDiskAtClose);

        /// <summary>While the target runs, the counts also go to the meter (null: no longer).</summary>
        public void ReportTo(FirehoseMetrics? meter) => Volatile.Write(ref _meter, meter);

        /// <summary>The meter's own measurements (latency, records per call), when the target runs.</summary>
        public FirehoseMetrics? Meter => Volatile.Read(ref _meter);

        public void HandOverBegun() => Interlocked.Increment(ref _handOvers);

        public void HandedOver(int events) => Interlocked.Add(ref _handedOver, events);

        /// <summary>Returns how many restarts so far.</summary>
        public long HandOverRestarted() => Interlocked.Increment(ref _handOverRestarts);

        public void HandOverRearmed() => Interlocked.Increment(ref _handOverRearms);

        public void CallMade() => Interlocked.Increment(ref _calls);

        /// <summary>Decreases of a stream's rate learned from throttling, and those undone as a fault's.</summary>
        public void RateDecreases(int made, int undone)
        {
            Interlocked.Add(ref _rateDecreases, made);
            Interlocked.Add(ref _rateDecreasesUndone, undone);
        }

        /// <summary>Decreases of the streams' rates learned from throttling (a quota's, or tried and undone as a fault's).</summary>
        public long RateDecreasesMade => Interlocked.Read(ref _rateDecreases);

        /// <summary>Decreases undone: the refusals came whatever the rate, a fault's.</summary>
        public long RateDecreasesUndone => Interlocked.Read(ref _rateDecreasesUndone);

        /// <summary>
        /// A call of <paramref name="records"/> that started at <paramref name="started"/> (a Stopwatch timestamp) ended:
        /// its latency goes to the meter. Always true (also used in an exception filter).
        /// </summary>
        public bool CallEnded(int records, long started)
        {
            long ticks = System.Diagnostics.Stopwatch.GetTimestamp() - started;
            Meter?.Request(records, ticks <= 0 ? TimeSpan.Zero : TimeSpan.FromTicks((long)(ticks * ((double)TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency)) + 1));
            return true;
        }

        /// <summary>A call's outcome: events accepted and refused for good, throttles, whether records go again.</summary>
        public void CallBooked(int accepted, int rejected, int throttles, bool retried)
        {
            Interlocked.Add(ref _delivered, accepted);
            Interlocked.Add(ref _rejected, rejected);
            Interlocked.Add(ref _throttles, throttles);
            if (retried)
                Interlocked.Increment(ref _retries);
            var meter = Meter;
            if (meter is null)
                return;
            meter.Sent(accepted);
            meter.Failed(rejected);
            meter.Throttled(throttles);
            if (retried)
                meter.Retried();
        }

        /// <summary>
        /// Firehose records accepted in one call (packed or not): their count, bytes as ingested, billed units, and the
        /// bytes of their events before compression.
        /// </summary>
        public void RecordsAccepted(long records, long bytes, long billedUnits, long eventBytes)
        {
            Interlocked.Add(ref _records, records);
            Interlocked.Add(ref _billedUnits, billedUnits);
            Interlocked.Add(ref _ingestedBytes, bytes);
            Interlocked.Add(ref _eventBytes, eventBytes);
            Meter?.RecordsAccepted(bytes, billedUnits, eventBytes);
        }

        /// <summary>Bytes Firehose ingested (after compression, when on).</summary>
        public long IngestedBytes => Interlocked.Read(ref _ingestedBytes);

        /// <summary>The accepted events' own bytes, before compression.</summary>
        public long EventBytes => Interlocked.Read(ref _eventBytes);

        /// <summary>Events dropped to stay within the bounds, per <see cref="LogLevel.Ordinal"/> (0 Trace … 5 Fatal).</summary>
        public void QueueDropped(LevelCounts byLevel)
        {
            long total = byLevel.Total;
            Interlocked.Add(ref _queueDropped, total);
            Meter?.Dropped(total);
        }

        /// <summary>An event NLog's full hand-over queue dropped; returns how many so far.</summary>
        public long NLogQueueDropped() => Interlocked.Increment(ref _nlogQueueDropped);

        public void LeftOut(int events)
        {
            Interlocked.Add(ref _leftOut, events);
            Meter?.Dropped(events);
        }

        public void Truncated(int events)
        {
            Interlocked.Add(ref _truncated, events);
            Meter?.Truncated(events);
        }

        public void Repaired(int events) => Interlocked.Add(ref _repaired, events);

        public void Undelivered(long events) => Interlocked.Add(ref _undeliveredAtClose, events);

        public void KeptOnDisk(long events) => Interlocked.Add(ref _keptOnDiskAtClose, events);
    }
}
