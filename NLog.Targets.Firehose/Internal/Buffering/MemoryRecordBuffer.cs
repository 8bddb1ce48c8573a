using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using NLog.Targets.Firehose.Internal.Diagnostics;

namespace NLog.Targets.Firehose.Internal.Buffering
{
    /// <summary>
    /// Records waiting for Firehose, in memory, bounded in bytes and in records. When a bound is hit the least important
    /// records go first: the oldest Trace/Debug, then Info, then Warn and above; an arriving record less important than
    /// everything held is the one dropped. Every drop is counted by level. Records taken for sending still count against
    /// the bounds until they are completed or returned, and they may use at most half of the byte bound, so that the
    /// drop policy can always reach the other half.
    /// </summary>
    internal sealed class MemoryRecordBuffer
    {
        private readonly object _lock = new object();
        private readonly Dictionary<string, StreamQueues> _streams = new Dictionary<string, StreamQueues>(StringComparer.Ordinal);
        private readonly long _maxBytes;
        private readonly int _maxRecords;
        private readonly Action<IReadOnlyList<BufferedRecord>>? _released;
        private long _bytes;
        private long _peakBytes;
        private int _records;
        private readonly LevelCounts _heldByLevel = new LevelCounts();
        private long _takenBytes;
        private bool _detaching;

        /// <summary>
        /// A buffer of at most <paramref name="maxBytes"/> and <paramref name="maxRecords"/>; its drops are counted into
        /// <paramref name="statistics"/> (a ledger of its own when null); <paramref name="released"/> is told of records
        /// that are done with: completed, or dropped by the bounds (the durable buffer acknowledges them).
        /// </summary>
        public MemoryRecordBuffer(long maxBytes, int maxRecords, Func<DateTime> utcNow, TargetStatistics? statistics = null,
            Action<IReadOnlyList<BufferedRecord>>? released = null)
        {
            _maxBytes = maxBytes;
            _maxRecords = maxRecords;
            Drops = new DropLedger(statistics ?? new TargetStatistics(), utcNow);
            _released = released;
        }

        /// <summary>The drops of the bounds (and of NLog's hand-over queue), for the drop summary and the statistics.</summary>
        public DropLedger Drops { get; }

        /// <summary>Records held (queued and taken), and their cost in bytes.</summary>
        public (int Records, long Bytes) Size
        {
            get
            {
                lock (_lock)
                    return (_records, _bytes);
            }
        }

        /// <summary>The most bytes the buffer ever held.</summary>
        public long PeakBytes
        {
            get
            {
                lock (_lock)
                    return _peakBytes;
            }
        }

        /// <summary>
        /// Adds a record, dropping the least important records if a bound is hit. Returns false when the record itself was
        /// dropped. <paramref name="beyondBounds"/> admits it without dropping anything (the one small drop-summary event,
        /// which must not cause the drops it reports).
        /// </summary>
        public bool Add(BufferedRecord record, bool beyondBounds = false)
        {
            List<BufferedRecord>? dropped = null;
            bool added;
            lock (_lock)
                added = AddLocked(record, beyondBounds, ref dropped);
            AfterDrops(dropped);
            return added;
        }

        /// <summary>
        /// Adds records as <see cref="Add"/> does, under one lock; returns how many were kept.
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        public int AddRange(IReadOnlyList<BufferedRecord> records)
        {
            List<BufferedRecord>? dropped = null;
            int added = 0;
            lock (_lock)
            {
                for (int i = 0; i < records.Count; i++)
                {
                    if (AddLocked(records[i], beyondBounds: false, ref dropped))
                        added++;
                }
            }
            AfterDrops(dropped);
            return added;
        }

        [MethodImpl(HotPath.Optimized)]
        private bool AddLocked(BufferedRecord record, bool beyondBounds, ref List<BufferedRecord>? dropped)
        {
            if (_detaching && _bytes < _maxBytes / 2)
                _detaching = false;
            while (!beyondBounds && (_records + 1 > _maxRecords || _bytes + record.Cost > _maxBytes))
            {
                if (!_detaching)
                    DetachAllLocked();
                var victimQueue = LowestClassOldest(out var victim);
                if (victim is null || victim.DropClass > record.DropClass)
                {
                    (dropped ??= new List<BufferedRecord>()).Add(record);
                    return false;
                }
                victimQueue!.RemoveFirst();
                _records--;
                _heldByLevel.Add(victim.Level, -1);
                _bytes -= victim.Cost;
                (dropped ??= new List<BufferedRecord>()).Add(victim);
            }

            if (_detaching)
                record.Detach();
            QueuesOf(record.Stream).Of(record.DropClass).AddLast(record);
            _records++;
            _heldByLevel.Add(record.Level);
            _bytes += record.Cost;
            if (_bytes > _peakBytes)
                _peakBytes = _bytes;
            return true;
        }

        /// <summary>
        /// Takes the next call's records: from the stream of the oldest record not in <paramref name="paused"/>, that
        /// stream's records oldest first, at most <paramref name="maxRecords"/> and <paramref name="maxBytes"/> data bytes.
        /// They stay counted until <see cref="Complete"/> or <see cref="Return"/>.
        /// </summary>
        public List<BufferedRecord> TakeCall(ICollection<string> paused, int maxRecords, int maxBytes) =>
            TakeCall(paused, maxRecords, maxBytes, long.MaxValue, out _);

        /// <summary>
        /// As <see cref="TakeCall(ICollection{string}, int, int)"/>, but only when the call is worth making: the stream
        /// holds a full call, or its oldest record arrived at or before <paramref name="readyBefore"/> (a
        /// <see cref="System.Diagnostics.Stopwatch"/> timestamp). Otherwise nothing is taken and
        /// <paramref name="waitingSince"/> is the oldest record's arrival (else <see cref="long.MaxValue"/>).
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        public List<BufferedRecord> TakeCall(ICollection<string> paused, int maxRecords, int maxBytes, long readyBefore, out long waitingSince,
            Func<string, (int Records, int Bytes)>? allowance = null)
        {
            var call = new List<BufferedRecord>();
            waitingSince = long.MaxValue;
            lock (_lock)
            {
                StreamQueues? stream = null;
                string? name = null;
                long oldest = long.MaxValue;
                foreach (var candidate in _streams)
                {
                    if (paused.Contains(candidate.Key))
                        continue;
                    foreach (var queue in candidate.Value.All)
                    {
                        if (queue.First != null && queue.First.Sequence < oldest)
                        {
                            oldest = queue.First.Sequence;
                            stream = candidate.Value;
                            name = candidate.Key;
                        }
                    }
                }
                if (stream is null)
                    return call;
                var cap = allowance?.Invoke(name!) ?? (maxRecords, maxBytes); // a rate cap: the stream's room
                (maxRecords, maxBytes) = (Math.Min(maxRecords, cap.Records), Math.Min(maxBytes, cap.Bytes));
                if (readyBefore != long.MaxValue && stream.Count < maxRecords && stream.DataBytes < maxBytes)
                {
                    long arrived = long.MaxValue;
                    foreach (var queue in stream.All)
                    {
                        if (queue.First != null && queue.First.Arrived < arrived)
                            arrived = queue.First.Arrived;
                    }
                    if (arrived > readyBefore)
                    {
                        waitingSince = arrived;
                        return call; // not full yet, and young: let it fill up
                    }
                }

                // Calls may hold at most half the byte bound: the drop policy must reach the rest.
                long room = _maxBytes / 2 - _takenBytes;
                long bytes = 0;
                while (call.Count < maxRecords)
                {
                    RecordDeque? next = null;
                    foreach (var queue in stream.All)
                    {
                        if (queue.First != null && (next is null || queue.First.Sequence < next.First!.Sequence))
                            next = queue;
                    }
                    if (next is null || bytes + next.First!.Data.Length > maxBytes || (call.Count > 0 && bytes + next.First.Cost > room))
                        break;
                    bytes += next.First.Data.Length;
                    _takenBytes += next.First.Cost;
                    call.Add(next.First);
                    next.RemoveFirst();
                }
            }
            return call;
        }

        /// <summary>Whether any queued record belongs to a stream not in <paramref name="paused"/>.</summary>
        [MethodImpl(HotPath.Optimized)]
        public bool HasDeliverable(ICollection<string> paused)
        {
            lock (_lock)
            {
                foreach (var stream in _streams)
                {
                    if (!paused.Contains(stream.Key) && stream.Value.Count > 0)
                        return true;
                }
                return false;
            }
        }

        /// <summary>Releases records that are done with: delivered, or rejected for good.</summary>
        [MethodImpl(HotPath.Optimized)]
        public void Complete(IReadOnlyCollection<BufferedRecord> records)
        {
            if (records.Count == 0)
                return;
            lock (_lock)
            {
                foreach (var record in records)
                {
                    _records--;
                    _heldByLevel.Add(record.Level, -1);
                    _bytes -= record.Cost;
                    _takenBytes -= record.Cost;
                }
            }
            _released?.Invoke(records as IReadOnlyList<BufferedRecord> ?? new List<BufferedRecord>(records));
            ReleaseAll(records);
        }

        /// <summary>Outside the lock: counts what the bounds dropped, by level, tells the journal, then releases it.</summary>
        private void AfterDrops(List<BufferedRecord>? dropped)
        {
            if (dropped is null)
                return;
            var byLevel = new LevelCounts();
            foreach (var record in dropped)
                byLevel.Add(record.Level);
            Drops.Count(byLevel);
            _released?.Invoke(dropped);
            ReleaseAll(dropped);
        }

        /// <summary>The records are done with: their shares of pooled arrays go back (after the journal, the last to look at them).</summary>
        [MethodImpl(HotPath.Optimized)]
        private static void ReleaseAll(IEnumerable<BufferedRecord> records)
        {
            foreach (var record in records)
                record.Release();
        }

        /// <summary>Puts records that were not delivered back at the front, to be sent again.</summary>
        [MethodImpl(HotPath.Optimized)]
        public void Return(IReadOnlyList<BufferedRecord> records)
        {
            if (records.Count == 0)
                return;
            var ordered = new List<BufferedRecord>(records);
            ordered.Sort((a, b) => b.Sequence.CompareTo(a.Sequence));
            lock (_lock)
            {
                foreach (var record in ordered)
                {
                    if (_detaching)
                        record.Detach();
                    QueuesOf(record.Stream).Of(record.DropClass).AddFirst(record);
                    _takenBytes -= record.Cost;
                }
            }
        }

        /// <summary>The records held (queued and in flight), by level; nothing is removed.</summary>
        public LevelCounts HeldByLevel()
        {
            lock (_lock)
                return _heldByLevel.Clone();
        }

        /// <summary>Drops every queued record (at close, for a buffer that cannot outlive the process); returns them per level.</summary>
        public LevelCounts DropAllQueued()
        {
            lock (_lock)
            {
                var byLevel = new LevelCounts();
                foreach (var stream in _streams.Values)
                {
                    foreach (var queue in stream.All)
                    {
                        foreach (var record in queue)
                        {
                            byLevel.Add(record.Level);
                            _heldByLevel.Add(record.Level, -1);
                            _records--;
                            _bytes -= record.Cost;
                            record.Release();
                        }
                        queue.Clear();
                    }
                }
                return byLevel;
            }
        }

        /// <summary>
        /// The buffer is about to drop records: records that share arrays (<see cref="RecordSlab"/>) get arrays of their
        /// own from now on, until the buffer is below half its bound again. Otherwise the records it keeps could hold on to
        /// whole arrays of records it dropped, and the bound would not hold in real memory.
        /// </summary>
        private void DetachAllLocked()
        {
            _detaching = true;
            foreach (var queues in _streams.Values)
            {
                foreach (var queue in queues.All)
                {
                    foreach (var record in queue)
                        record.Detach();
                }
            }
        }

        private RecordDeque? LowestClassOldest(out BufferedRecord? victim)
        {
            victim = null;
            RecordDeque? victimQueue = null;
            for (int dropClass = 0; dropClass < 3 && victim is null; dropClass++)
            {
                foreach (var stream in _streams.Values)
                {
                    var queue = stream.Of(dropClass);
                    if (queue.First != null && (victim is null || queue.First.Sequence < victim.Sequence))
                    {
                        victim = queue.First;
                        victimQueue = queue;
                    }
                }
            }
            return victimQueue;
        }

        private StreamQueues QueuesOf(string stream)
        {
            if (!_streams.TryGetValue(stream, out var queues))
            {
                queues = new StreamQueues();
                _streams.Add(stream, queues);
            }
            return queues;
        }

        /// <summary>One stream's queued records, one FIFO per drop class.</summary>
        private sealed class StreamQueues
        {
            public readonly RecordDeque[] All = { new RecordDeque(), new RecordDeque(), new RecordDeque() };

            public int Count => All[0].Count + All[1].Count + All[2].Count;

            public long DataBytes => All[0].DataBytes + All[1].DataBytes + All[2].DataBytes;

            public RecordDeque Of(int dropClass) => All[dropClass];
        }
    }
}
