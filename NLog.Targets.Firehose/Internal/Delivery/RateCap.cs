using System;
using System.Collections.Generic;
using System.Diagnostics;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// Fixed send-rate caps per delivery stream (<c>maxRecordsPerSecond</c>, <c>maxBytesPerSecond</c>): a token bucket
    /// per stream, a tenth of a second deep (so no second ever sees more than 1.1 times the cap), counted in events and
    /// their bytes as encoded (before packing and compression). A stream whose bucket is not full again waits (its records stay in the buffer), then sends up to
    /// the bucket's worth in one call; a record larger than that still goes, and the stream then waits until the debt
    /// is paid. Off when both are 0.
    /// Thread-safe.
    /// </summary>
    internal sealed class RateCap
    {
        private const double DepthSeconds = 0.1;
        private readonly object _lock = new object();
        private readonly Dictionary<string, Bucket> _buckets = new Dictionary<string, Bucket>(StringComparer.Ordinal);
        private readonly double _recordsPerSecond;
        private readonly double _bytesPerSecond;
        private readonly Func<long> _timestamp;

        public RateCap(double recordsPerSecond, double bytesPerSecond, Func<long>? timestamp = null)
        {
            _recordsPerSecond = Math.Max(0, recordsPerSecond);
            _bytesPerSecond = Math.Max(0, bytesPerSecond);
            _timestamp = timestamp ?? Stopwatch.GetTimestamp;
        }

        public bool IsOn => _recordsPerSecond > 0 || _bytesPerSecond > 0;

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
                foreach (var bucket in _buckets)
                {
                    long ready = bucket.Value.ReadyAt(now, this);
                    if (ready <= now)
                        continue;
                    (waiting ??= new HashSet<string>(paused, StringComparer.Ordinal)).Add(bucket.Key);
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
                if (!_buckets.TryGetValue(stream, out var bucket))
                    _buckets.Add(stream, bucket = new Bucket(_timestamp(), this)); // a new stream starts with the depth, not more
                bucket.Refill(_timestamp(), this);
                int records = _recordsPerSecond > 0 ? (int)Math.Max(1, Math.Floor(bucket.Records)) : int.MaxValue;
                int bytes = _bytesPerSecond > 0 ? (int)Math.Max(FirehoseLimits.MaxRecordBytes, Math.Min(int.MaxValue, bucket.Bytes)) : int.MaxValue;
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
                if (!_buckets.TryGetValue(stream, out var bucket))
                    _buckets.Add(stream, bucket = new Bucket(_timestamp(), this));
                bucket.Refill(_timestamp(), this);
                bucket.Records -= records;
                bucket.Bytes -= bytes;
            }
        }

        /// <summary>A stream's room: events and bytes it may send now (negative: a debt).</summary>
        private sealed class Bucket
        {
            public double Records;
            public double Bytes;
            private long _refilled;

            public Bucket(long now, RateCap cap)
            {
                _refilled = now;
                Records = cap._recordsPerSecond * DepthSeconds;
                Bytes = cap._bytesPerSecond * DepthSeconds;
            }

            public void Refill(long now, RateCap cap)
            {
                double seconds = (now - _refilled) / (double)Stopwatch.Frequency;
                _refilled = now;
                if (seconds <= 0)
                    return;
                Records = Math.Min(Math.Max(1, cap._recordsPerSecond * DepthSeconds), Records + seconds * cap._recordsPerSecond);
                Bytes = Math.Min(cap._bytesPerSecond * DepthSeconds, Bytes + seconds * cap._bytesPerSecond);
            }

            /// <summary>
            /// When the bucket is full again (now or later): a capped stream sends a tenth of a second's worth per call,
            /// not a record or two each time the room allows it (which would spend the stream's requests/s quota instead).
            /// </summary>
            public long ReadyAt(long now, RateCap cap)
            {
                Refill(now, cap);
                double wait = 0;
                double records = Math.Max(1, cap._recordsPerSecond * DepthSeconds);
                if (cap._recordsPerSecond > 0 && Records < records * 0.999)
                    wait = Math.Max(wait, (records - Records) / cap._recordsPerSecond);
                double bytes = cap._bytesPerSecond * DepthSeconds;
                if (cap._bytesPerSecond > 0 && Bytes < bytes * 0.999)
                    wait = Math.Max(wait, (bytes - Bytes) / cap._bytesPerSecond);
                return wait <= 0 ? now : now + (long)Math.Ceiling(wait * Stopwatch.Frequency);
            }
        }
    }
}
