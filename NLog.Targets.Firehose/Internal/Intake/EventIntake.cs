using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using NLog.Common;
using NLog.Layouts;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Delivery;
using NLog.Targets.Firehose.Internal.Diagnostics;
using NLog.Targets.Firehose.Internal.Durability;

namespace NLog.Targets.Firehose.Internal.Intake
{
    /// <summary>
    /// NLog's hand-overs: renders and encodes the events, hands them to the buffer (and the durable buffer) at once and
    /// tells the pipeline; NLog's queue stays short, and the buffer decides what to keep when it is full. What is left out
    /// (unrenderable, oversized with Drop, an invalid or broken stream) is counted and said.
    /// </summary>
    internal sealed class EventIntake
    {
        private readonly IntakeSettings _settings;
        private readonly MemoryRecordBuffer _buffer;
        private readonly DeliveryPipeline _pipeline;
        private readonly DiskJournal? _journal;
        private readonly RecordSequence _sequence;
        private readonly TargetStatistics _statistics;
        private readonly string? _fixedStream;
        private RecordSlab? _slab;
        private int _handingOver;

        public EventIntake(IntakeSettings settings, MemoryRecordBuffer buffer, DeliveryPipeline pipeline, DiskJournal? journal, RecordSequence sequence, TargetStatistics statistics)
        {
            _settings = settings;
            _buffer = buffer;
            _pipeline = pipeline;
            _journal = journal;
            _sequence = sequence;
            _statistics = statistics;
            _fixedStream = settings.StreamName is SimpleLayout { IsFixedText: true } fixedName ? fixedName.FixedText : null;
        }

        /// <summary>Whether a hand-over is running (the queue watch and the close wait for it).</summary>
        public bool IsHandingOver => Volatile.Read(ref _handingOver) > 0;

        /// <summary>
        /// One of NLog's hand-overs, on its writer task: counted, accepted, and NLog's continuation (the next hand-over)
        /// let run on this thread. Throws the failure for NLog's failure path, if any (<see cref="PersistentErrorAction.Fail"/>).
        /// </summary>
        public void HandOver(IList<LogEventInfo> logEvents)
        {
            _statistics.HandOverBegun();
            Interlocked.Increment(ref _handingOver);
            Exception? failure;
            try
            {
                _settings.BeforeHandOver?.Invoke();
                failure = Accept(logEvents);
            }
            finally
            {
                Interlocked.Decrement(ref _handingOver);
                HandOverScheduler.HandOverEnds(); // NLog's continuation (the next batch) runs on this thread
            }
            if (failure != null)
                throw failure;
        }

        /// <summary>
        /// Renders the events and hands them to the buffer. Returns the exception for NLog's failure path, if any.
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        public Exception? Accept(IList<LogEventInfo> logEvents)
        {
            var encoder = _settings.Encoder;
            var layout = _settings.Layout;
            bool failBroken = _settings.FailBrokenStreams;
            var records = new List<BufferedRecord>(logEvents.Count);
            var slab = Interlocked.Exchange(ref _slab, null) ?? new RecordSlab(); // one hand-over at a time uses it
            var counts = new LeftOut();
            for (int i = 0; i < logEvents.Count; i++)
            {
                var logEvent = logEvents[i];
                string stream;
                ReadOnlyMemory<byte> data;
                bool kept;
                EncodeOutcome outcome;
                try
                {
                    stream = _fixedStream ?? _settings.StreamName.Render(logEvent);
                    if (_fixedStream is null && !FirehoseLimits.IsValidStreamName(stream))
                    {
                        counts.BadName = stream;
                        counts.BadNames++;
                        continue;
                    }
                    if (failBroken && _pipeline.IsBroken(stream, out string? code))
                    {
                        counts.BrokenStream = stream;
                        counts.BrokenCode = code;
                        counts.Failed++;
                        continue;
                    }
                    var text = slab.Text();
                    layout.Render(logEvent, text); // NLog's precalculated text when the layout needs the logging thread
                    kept = encoder.TryEncode(text, logEvent, slab, out data, out outcome, out int replaced);
                    if (replaced > 0)
                        counts.Repaired++;
                }
                catch (Exception ex) when (!(ex is OutOfMemoryException))
                {
                    InternalLogger.Error(ex, "{0}: could not render a log event of logger '{1}'; it is left out", _settings.Name, logEvent.LoggerName);
                    counts.Dropped++;
                    continue;
                }

                if (outcome == EncodeOutcome.Truncated)
                    counts.Truncated++;
                if (!kept)
                {
                    counts.Dropped++;
                    continue;
                }
                var record = new BufferedRecord(stream, data, (logEvent.Level ?? LogLevel.Info).Ordinal, _sequence.Next(), slab.TakeCommitted());
                _journal?.Append(record);
                records.Add(record);
            }
            Volatile.Write(ref _slab, slab);
            if (records.Count > 0)
            {
                _buffer.AddRange(records); // one lock and one look for a free call slot per hand-over
                _pipeline.RecordsAdded();
            }
            if (_journal != null && _settings.FlushJournalEveryHandOver)
                _journal.Flush();

            _statistics.HandedOver(logEvents.Count);
            return counts.Any ? Report(counts, records.Count) : null;
        }

        /// <summary>Counts and says what a hand-over left out; the failure for NLog's failure path when nothing else was taken.</summary>
        private Exception? Report(LeftOut counts, int buffered)
        {
            string name = _settings.Name;
            if (counts.Truncated > 0)
            {
                _statistics.Truncated(counts.Truncated);
                InternalLogger.Warn("{0}: truncated {1} events larger than the {2}-byte record limit ({3} so far)", name, counts.Truncated, FirehoseLimits.MaxRecordBytes, _statistics.TruncatedEvents);
            }
            if (counts.Repaired > 0)
            {
                _statistics.Repaired(counts.Repaired);
                InternalLogger.Warn("{0}: {1} events held invalid UTF-16 (lone surrogates), sent with U+FFFD in their place ({2} so far)", name, counts.Repaired, _statistics.RepairedEvents);
            }
            int dropped = counts.Dropped;
            if (counts.BadNames > 0)
            {
                dropped += counts.BadNames;
                InternalLogger.Error("{0}: {1} events rendered the invalid delivery stream name '{2}' (1-64 characters of a-z, A-Z, 0-9, '_', '.', '-'); they are left out", name, counts.BadNames, counts.BadName);
            }
            if (counts.Failed > 0)
            {
                if (buffered == 0)
                {
                    string message = $"{name}: delivery stream '{counts.BrokenStream}' ({_settings.Where}) fails with {counts.BrokenCode}; {counts.Failed} events handed to NLog's failure path (persistentErrorAction=Fail)";
                    InternalLogger.Warn(message);
                    return new FirehoseDeliveryException(message, counts.BrokenCode);
                }
                // Other events of this hand-over were taken: failing the hand-over would send those to a fallback too.
                dropped += counts.Failed;
                InternalLogger.Error("{0}: delivery stream '{1}' fails with {2}; {3} of its events are left out (others in the same hand-over were taken)", name, counts.BrokenStream, counts.BrokenCode, counts.Failed);
            }
            if (dropped > 0)
            {
                _statistics.LeftOut(dropped);
                InternalLogger.Warn("{0}: left out {1} events that were larger than the {2}-byte record limit, could not be rendered, named no valid stream or a failing one ({3} so far)", name, dropped, FirehoseLimits.MaxRecordBytes, _statistics.DroppedEvents);
            }
            return null;
        }

        /// <summary>What one hand-over left out or changed.</summary>
        private sealed class LeftOut
        {
            public int Truncated;
            public int Repaired;
            public int Dropped;
            public int BadNames;
            public string? BadName;
            public int Failed;
            public string? BrokenStream;
            public string? BrokenCode;

            public bool Any => Truncated > 0 || Repaired > 0 || Dropped > 0 || BadNames > 0 || Failed > 0;
        }
    }
}
