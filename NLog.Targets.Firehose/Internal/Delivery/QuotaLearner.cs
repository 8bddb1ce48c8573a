using System;
using System.Collections.Generic;
using System.Diagnostics;
using NLog.Common;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Diagnostics;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// Learns each delivery stream's rate from its throttles and keeps the stream's sending just under it, through the
    /// stream's bucket in <see cref="RateCap"/>. The rule: a quota lets through the same number a second whatever is sent,
    /// so sending less ends its refusals; a fault (a backend having a bad minute, a proxy) refuses the same share of
    /// whatever is sent, in single records or whole calls, so sending less only delivers less. A decrease is made on the
    /// quota's own marks, and otherwise tried and undone unless it paid (<see cref="StreamRate"/>):
    /// <list type="bullet">
    /// <item>A quota's marks: calls refused whole, in a row (a spent quota refuses every call until its second ends; eight,
    /// or as many as a known fault makes once in a million calls), and, beside a fault that refuses calls whole, a call
    /// refused in part. The rate becomes 95% of the most Firehose accepted in a whole second — what the quota let
    /// through, the other producers' share already taken — raised for a fault's known share.</item>
    /// <item>Refusals beyond chance and a known fault's share, with no such mark: a rate that just grew goes back a
    /// second, then a fresh second at that rate is looked at. Still beyond: a decrease, on trial — kept when the share
    /// refused fell by more than chance; otherwise undone at once, and the share refused at the lower rate is the
    /// fault's from then on (followed as it changes).</item>
    /// <item>Increase: while the rate is what holds the stream back and nothing is refused beyond a fault's share, it
    /// grows by 5% a second, twice as fast for every further second without a refusal (up to doubling a second; 20% beside
    /// a fault): close to the quota it probes gently, a raised quota is found within seconds.</item>
    /// </list>
    /// Chance is counted in calls, not records: a fault may refuse whole calls. Thread-safe.
    /// </summary>
    internal sealed class QuotaLearner
    {
        private readonly RateCap _cap;
        private readonly TargetStatistics _statistics;
        private readonly string _name;
        private readonly Func<long> _timestamp;
        private readonly object _lock = new object();
        private readonly DeliveryStreams _streams;

        public QuotaLearner(RateCap cap, TargetStatistics statistics, string name, Func<long>? timestamp = null, DeliveryStreams? streams = null)
        {
            _streams = streams ?? new DeliveryStreams();
            _cap = cap;
            _statistics = statistics;
            _name = name;
            _timestamp = timestamp ?? Stopwatch.GetTimestamp;
        }

        /// <summary>The rate learned for <paramref name="stream"/>: events and bytes per second (0, 0 while none).</summary>
        public (double Records, double Bytes) Rate(string stream)
        {
            lock (_lock)
                return _streams.TryGet(stream, out var state) && state.Rate is { } rate ? (rate.Records, rate.Bytes) : (0, 0);
        }

        /// <summary>Every stream's learned rate, for the meter's gauge (read without the lock: a gauge may see a rate a moment old).</summary>
        public IEnumerable<KeyValuePair<string, (double Records, double Bytes)>> Rates
        {
            get
            {
                foreach (var stream in _streams.All)
                {
                    if (stream.Rate is { Records: > 0 } rate)
                        yield return new KeyValuePair<string, (double Records, double Bytes)>(stream.Name, (rate.Records, rate.Bytes));
                }
            }
        }

        /// <summary>
        /// A call of <paramref name="call"/> (one stream's events) ended with <paramref name="outcome"/>. Only calls Firehose
        /// answered count: over the quota it refuses records inside a 200; a call that failed as a whole (an outage, a
        /// throttled request, a dropped connection) tells no rate, and backing off handles it.
        /// </summary>
        public void Observe(List<BufferedRecord> call, CallOutcome outcome)
        {
            if (call.Count == 0 || !outcome.Answered)
                return;
            Observe(call[0].Stream, call.Count, outcome.Accepted.Count, outcome.AcceptedEventBytes, outcome.ThrottledEvents);
        }

        /// <summary>
        /// A call of <paramref name="sent"/> events to <paramref name="stream"/> ended:
        /// <paramref name="accepted"/> of them (<paramref name="acceptedBytes"/> bytes) accepted, <paramref name="throttled"/>
        /// refused by throttling.
        /// </summary>
        public void Observe(string stream, int sent, int accepted, long acceptedBytes, int throttled)
        {
            if (sent <= 0)
                return;
            string? said = null;
            lock (_lock)
            {
                var state = _streams.Of(stream);
                var rate = state.Rate ??= new StreamRate(); // every stream's last second is kept: the first throttle is learned from it
                var outcome = new Tally(sent, accepted, acceptedBytes, throttled);
                var (decreases, undone) = (rate.Decreases, rate.Undone);
                if (rate.Step(_timestamp(), outcome, ref said))
                {
                    _statistics.RateDecreases(rate.Decreases - decreases, rate.Undone - undone);
                    // Under this lock, so that rates reach the bucket in the order they were learned (lock order: learner, then cap).
                    _cap.Learn(stream, rate.Records, rate.Bytes);
                }
            }
            if (said != null)
                InternalLogger.Info("{0}: delivery stream '{1}': {2}", _name, stream, said);
        }
    }
}
