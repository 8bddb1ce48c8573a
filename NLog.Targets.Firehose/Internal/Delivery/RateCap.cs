using System;
using System.Collections.Generic;
using System.Diagnostics;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// Send-rate caps per delivery stream: the fixed ones (<c>maxRecordsPerSecond</c>, <c>maxBytesPerSecond</c>) and
    /// the rates <see cref="QuotaLearner"/> learned from throttling (<see cref="Learn"/>); the lower of the two holds. A
    /// token bucket per stream, a tenth of a second deep (so no second ever sees more than 1.1 times the rate), counted
    /// in events and their bytes as encoded (before packing and compression). A stream whose bucket is not full again
    /// waits (its records stay in the buffer), then sends up to the bucket's worth in one call; a record larger than
    /// that still goes, and the stream then waits until the debt is paid. Off while no stream has a rate.
    /// Thread-safe.
    /// </summary>
    internal sealed class RateCap
    {
        private const double DepthSeconds = 0.1;
        private readonly object _lock = new object();
        private readonly DeliveryStreams _streams;
        private readonly double _recordsPerSecond;
        private readonly double _bytesPerSecond;
        private readonly Func<long> _timestamp;
        private volatile bool _isOn;

        public RateCap(double recordsPerSecond, double bytesPerSecond, Func<long>? timestamp = null, DeliveryStreams? streams = null)
        {
            _streams = streams ?? new DeliveryStreams();
            _recordsPerSecond = Math.Max(0, recordsPerSecond);
            _bytesPerSecond = Math.Max(0, bytesPerSecond);
            _timestamp = timestamp ?? Stopwatch.GetTimestamp;
            _isOn = _recordsPerSecond > 0 || _bytesPerSecond > 0;
            Allowances = Allowance;
        }

        /// <summary><see cref="Allowance"/> as one delegate, made once (the pipeline passes it to the buffer on every look).</summary>
        public Func<string, (int Records, int Bytes)> Allowances { get; }

        /// <summary>Whether any stream has a rate (a fixed cap, or one learned).</summary>
        public bool IsOn => _isOn;

        /// <summary>
        /// Sets the rates learned for <paramref name="stream"/> (events and bytes per second; 0: none). A fixed cap
        /// below them still holds.
        /// </summary>
        public void Learn(string stream, double recordsPerSecond, double bytesPerSecond)
        {
            lock (_lock)
            {
                var bucket = BucketLocked(stream);
                bucket.Refill(_timestamp(), this);
                if (bucket.RecordsRate(this) <= 0)
                    bucket.Records = 0; // no debt from before the stream had a rate
                if (bucket.BytesRate(this) <= 0)
                    bucket.Bytes = 0;
                bucket.LearnedRecords = Math.Max(0, recordsPerSecond);
                bucket.LearnedBytes = Math.Max(0, bytesPerSecond);
                bucket.Records = Math.Min(bucket.Records, Math.Max(1, bucket.RecordsRate(this) * DepthSeconds));
                bucket.Bytes = Math.Min(bucket.Bytes, bucket.BytesRate(this) * DepthSeconds);
                if (recordsPerSecond > 0 || bytesPerSecond > 0)
                    _isOn = true;
            }
        }

        /// <summary>
        /// <paramref name="paused"/> and the streams without room for a record now; <paramref name="due"/> is when the first
        /// of those has room again (a Stopwatch timestamp; <see cref="long.MaxValue"/> when none waits).
        /// </summary>
        public ICollection<string> Waiting(ICollection<string> paused, out long due)
        {
            due = long.MaxValue;
            HashSet<string>? waiting = null;
            lock (_lock)
            {
                long now = _timestamp();
                foreach (var stream in _streams.All)
                {
                    if (!(stream.Bucket is { } bucket))
                        continue;
                    long ready = bucket.ReadyAt(now, this);
                    if (ready <= now)
                        continue;
                    (waiting ??= new HashSet<string>(paused, StringComparer.Ordinal)).Add(stream.Name);
                    due = Math.Min(due, ready);
                }
            }
            return waiting ?? paused;
        }

        /// <summary>How much of <paramref name="stream"/> may go in the next call: records and data bytes.</summary>
        public (int Records, int Bytes) Allowance(string stream)
        {
            lock (_lock)
            {
                var bucket = BucketLocked(stream);
                bucket.Refill(_timestamp(), this);
                int records = bucket.RecordsRate(this) > 0 ? (int)Math.Max(1, Math.Min(int.MaxValue, Math.Floor(bucket.Records))) : int.MaxValue;
                int bytes = bucket.BytesRate(this) > 0 ? (int)Math.Max(FirehoseLimits.MaxRecordBytes, Math.Min(int.MaxValue, bucket.Bytes)) : int.MaxValue;
                return (records, bytes);
            }
        }

        /// <summary>A call took <paramref name="call"/> (the records of one stream) from the buffer.</summary>
        public void Spend(List<BufferedRecord> call)
        {
            if (!IsOn || call.Count == 0)
                return;
            long bytes = 0;
            foreach (var record in call)
                bytes += record.Data.Length;
            Spend(call[0].Stream, call.Count, bytes);
        }

        /// <summary>A call of <paramref name="stream"/> took <paramref name="records"/> events of <paramref name="bytes"/> data bytes.</summary>
        public void Spend(string stream, int records, long bytes)
        {
            lock (_lock)
            {
                var bucket = BucketLocked(stream);
                bucket.Refill(_timestamp(), this);
                bucket.Records -= records;
                bucket.Bytes -= bytes;
            }
        }

        private Bucket BucketLocked(string stream)
        {
            var state = _streams.Of(stream);
            return state.Bucket ??= new Bucket(_timestamp(), this); // a new stream starts with the depth, not more
        }

        /// <summary>The lower of a fixed cap and a learned rate; 0 for none.</summary>
        private static double Lower(double fixedRate, double learned) =>
            fixedRate > 0 && learned > 0 ? Math.Min(fixedRate, learned) : Math.Max(fixedRate, learned);

        /// <summary>A stream's room: events and bytes it may send now (negative: a debt), and its learned rates.</summary>
        internal sealed class Bucket
        {
            public double Records;
            public double Bytes;
            public double LearnedRecords;
            public double LearnedBytes;
            private long _refilled;

            public Bucket(long now, RateCap cap)
            {
                _refilled = now;
                Records = RecordsRate(cap) * DepthSeconds;
                Bytes = BytesRate(cap) * DepthSeconds;
            }

            public double RecordsRate(RateCap cap) => Lower(cap._recordsPerSecond, LearnedRecords);

            public double BytesRate(RateCap cap) => Lower(cap._bytesPerSecond, LearnedBytes);

            public void Refill(long now, RateCap cap)
            {
                double seconds = (now - _refilled) / (double)Stopwatch.Frequency;
                _refilled = now;
                if (seconds <= 0)
                    return;
                double recordsRate = RecordsRate(cap), bytesRate = BytesRate(cap);
                // Without a rate nothing is counted (no debt waits for a rate learned later).
                Records = recordsRate > 0 ? Math.Min(Math.Max(1, recordsRate * DepthSeconds), Records + seconds * recordsRate) : 0;
                Bytes = bytesRate > 0 ? Math.Min(bytesRate * DepthSeconds, Bytes + seconds * bytesRate) : 0;
            }

            /// <summary>
            /// When the bucket is full again (now or later): a capped stream sends a tenth of a second's worth per call,
            /// not a record or two each time the room allows it (which would spend the stream's requests/s quota instead).
            /// </summary>
            public long ReadyAt(long now, RateCap cap)
            {
                Refill(now, cap);
                double wait = 0;
                double recordsRate = RecordsRate(cap), bytesRate = BytesRate(cap);
                double records = Math.Max(1, recordsRate * DepthSeconds);
                if (recordsRate > 0 && Records < records * 0.999)
                    wait = Math.Max(wait, (records - Records) / recordsRate);
                double bytes = bytesRate * DepthSeconds;
                if (bytesRate > 0 && Bytes < bytes * 0.999)
                    wait = Math.Max(wait, (bytes - Bytes) / bytesRate);
                return wait <= 0 ? now : now + (long)Math.Ceiling(wait * Stopwatch.Frequency);
            }
        }
    }
}
