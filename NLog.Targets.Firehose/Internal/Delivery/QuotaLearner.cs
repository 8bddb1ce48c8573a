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
    /// stream's bucket in <see cref="RateCap"/>. Nothing is limited until Firehose throttles: refuses records with
    /// "Slow down." inside its answer, as it does over a stream's quota, and refuses 90% or more of a call's records (a
    /// spent quota refuses everything; a fault refuses a share of each call). Then:
    /// <list type="bullet">
    /// <item>Decrease, at most once every two seconds (every second while a quarter or more is refused), when the last
    /// second's calls were refused in two or more, one of them spent, and of 100 events or more: the rate becomes 95% of
    /// the most Firehose accepted in a whole second, this one or the one before (events and their bytes) — what the quota
    /// let through, the other producers' share already taken. A stream that accepts nothing is in an outage, which
    /// backing off handles.</item>
    /// <item>Check: refusals that come whatever the rate are a fault's, not the quota's. When a whole second sending at
    /// most 80% as much, after at most two cuts, is refused about the same share (10% or more) with the accepted count
    /// down in proportion, the cuts are undone, and only refusals well beyond that share count from then on (the share is
    /// followed down as it lessens).</item>
    /// <item>Increase: while the rate is what holds the stream back and nothing is refused beyond a fault's share, it
    /// grows by 5% a second, twice as fast for every further second without a refusal (up to doubling a second):
    /// close to the quota it probes gently, a raised quota is found within seconds.</item>
    /// </list>
    /// Thread-safe.
    /// </summary>
    internal sealed class QuotaLearner
    {
        private const double Margin = 0.95;
        private const double FloorRecords = 10;
        private const double FloorBytes = 10_000;
        private readonly RateCap _cap;
        private readonly TargetStatistics _statistics;
        private readonly string _name;
        private readonly Func<long> _timestamp;
        private readonly Dictionary<string, StreamRate> _streams = new Dictionary<string, StreamRate>(StringComparer.Ordinal);

        public QuotaLearner(RateCap cap, TargetStatistics statistics, string name, Func<long>? timestamp = null)
        {
            _cap = cap;
            _statistics = statistics;
            _name = name;
            _timestamp = timestamp ?? Stopwatch.GetTimestamp;
        }

        /// <summary>The rate learned for <paramref name="stream"/>: events and bytes per second (0, 0 while none).</summary>
        public (double Records, double Bytes) Rate(string stream)
        {
            lock (_streams)
                return _streams.TryGetValue(stream, out var rate) ? (rate.Records, rate.Bytes) : (0, 0);
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
            lock (_streams)
            {
                if (!_streams.TryGetValue(stream, out var rate))
                    _streams.Add(stream, rate = new StreamRate()); // every stream's last second is kept: the first throttle is learned from it
                long now = _timestamp();
                rate.Window.Add(now, sent, accepted, acceptedBytes, throttled);
                if (rate.Step(now, throttled, ref said))
                {
                    // Under this lock, so that rates reach the bucket in the order they were learned (lock order: learner, then cap).
                    _cap.Learn(stream, rate.Records, rate.Bytes);
                    _statistics.LearnedRate(stream, rate.Records, rate.Bytes);
                }
            }
            if (said != null)
                InternalLogger.Info("{0}: delivery stream '{1}': {2}", _name, stream, said);
        }

        /// <summary>One stream's learned rate and the seconds of outcomes it is learned from.</summary>
        private sealed class StreamRate
        {
            public readonly SecondWindow Window = new SecondWindow();
            public double Records; // 0: none
            public double Bytes;
            private long _changed = long.MinValue / 4; // long ago, without overflowing "now - _changed"
            private long _lastRefused;
            private long _grown;
            private bool _saidOnce;

            // A series of cuts (at most two before it is checked, unless the refusals double) and what the stream did before it.
            private int _seriesCuts;
            private bool _checkPending;
            private long _lastCutSecond;
            private double _recordsBefore;
            private double _bytesBefore;
            private long _sentAtFirstCut;
            private long _acceptedAtFirstCut;
            private double _shareAtFirstCut;

            // The share of records a fault refuses whatever the rate (found by a check), last followed in this whole second.
            private double _fault;
            private long _faultSecond;

            /// <summary>Decides after an outcome; true when the rate changed.</summary>
            public bool Step(long now, int throttled, ref string? said)
            {
                long second = Stopwatch.Frequency;
                var (sent, accepted, acceptedBytes, refused, refusedCalls, spentCalls) = Window.Sum(now);
                double share = sent == 0 ? 0 : (double)refused / sent;
                if (_checkPending && now / second >= _lastCutSecond + 3 && IsFault(Window.Whole(now / second - 1), now / second < _lastCutSecond + 6, ref said))
                {
                    Records = _recordsBefore;
                    Bytes = _bytesBefore;
                    said += Records > 0 ? "; rate back to " + Describe(Records, Bytes) : "; not limited";
                    _changed = _grown = now;
                    return true;
                }
                if (_fault > 0 && now / second != _faultSecond && Window.Whole(now / second - 1) is { Sent: >= 50 } last)
                {
                    // A fault's refusals lessen or end: follow them down, a tenth of the way each whole second that refused less.
                    _faultSecond = now / second;
                    double lastShare = (double)last.Refused / last.Sent;
                    if (lastShare < _fault)
                        _fault = 0.9 * _fault + 0.1 * lastShare;
                }

                // Over the quota: a call of the last second found it spent (90% or more of its records refused: a quota
                // refuses everything once spent, a fault a share of each call), refusals in two calls or more of at least
                // 100 events, by more than chance would (three standard deviations) and 2% of what was sent — beyond a
                // fault's share, by half as much again —, while Firehose accepts some (a stream that accepts nothing is in
                // an outage, which backing off handles: it tells no rate).
                var (quota, quotaBytes) = Window.MostAccepted(now);
                double beyond = _fault > 0 ? _fault + Math.Max(0.05, _fault / 2) : 0.02;
                bool overQuota = throttled > 0 && spentCalls >= 1 && refusedCalls >= 2 && sent >= 100 && quota > 0
                    && refused > sent * beyond + 3 * Math.Sqrt(sent * Math.Max(_fault, 0.01));
                if (overQuota)
                    _lastRefused = now;
                // One decrease per two seconds (one a second while a quarter or more is refused): the calls already sent at the
                // old rate come back refused meanwhile, and a quota counted per second may stay spent for the rest of the
                // second it was spent in. After two, the series is checked before the next.
                // A share twice that which began the series begins a new one (the quota was lowered meanwhile, say).
                bool newSeries = !_checkPending || share >= 2 * _shareAtFirstCut;
                if (overQuota && now - _changed >= (share >= 0.25 ? second : second * 2) && (newSeries || _seriesCuts < 2))
                {
                    if (newSeries)
                    {
                        (_recordsBefore, _bytesBefore) = (Records, Bytes);
                        (_sentAtFirstCut, _acceptedAtFirstCut, _shareAtFirstCut) = (sent, accepted, share);
                        _seriesCuts = 0;
                    }
                    _seriesCuts++;
                    _checkPending = true;
                    _lastCutSecond = now / second;
                    // What the quota let through: the most accepted in this whole second or the one before; or, when the last
                    // second was all at the current rate, what it accepted if less (a window of the last second may span two
                    // seconds of a quota counted per clock second, and see up to twice the quota).
                    if (accepted < quota && now - _changed > second * 11 / 10)
                        (quota, quotaBytes) = (accepted, acceptedBytes);
                    double records = quota * Margin;
                    double bytes = quotaBytes * Margin;
                    Records = Math.Max(FloorRecords, Records > 0 ? Math.Min(records, Records * Margin) : records);
                    Bytes = bytes <= 0 ? Bytes : Math.Max(FloorBytes, Bytes > 0 ? Math.Min(bytes, Bytes * Margin) : bytes);
                    _changed = _grown = now;
                    if (!_saidOnce)
                        said = $"over its quota ({share:P0} of the last second's records refused): sending at most {Describe(Records, Bytes)} from now on, learned from throttling";
                    _saidOnce = true;
                    InternalLogger.Debug("Firehose quota: {0:P0} refused in the last second; rate now {1}", share, Describe(Records, Bytes));
                    return true;
                }

                // Grow while the rate is what holds the stream back (it sent at least half of it in the last second).
                if (Records <= 0)
                    return false;
                if (overQuota || now - _changed < second * 2 || sent < Records / 2)
                {
                    _grown = now;
                    return false;
                }
                double quiet = (now - _lastRefused) / (double)second;
                double perSecond = Math.Min(1.0, 0.05 * Math.Pow(2, Math.Max(0, quiet - 2)));
                double seconds = (now - _grown) / (double)second;
                if (seconds < 0.1)
                    return false;
                _grown = now;
                double factor = 1 + perSecond * Math.Min(seconds, 1);
                Records *= factor;
                if (Bytes > 0)
                    Bytes *= factor;
                return true;
            }

            /// <summary>
            /// Whether the refusals that began the last series of cuts were a fault's, told from a whole second at least two
            /// after its last cut (a quota spent in the second of a cut may refuse in the next): a quota lets the same number
            /// through whatever is sent, so sending less lessens the refusals (or not the accepted count); a fault refuses
            /// the same share of whatever is sent. Only sending at most 80% as much can tell. <paramref name="again"/>: look
            /// again at the next outcome while no second can tell yet.
            /// </summary>
            private bool IsFault((long Sent, long Accepted, long Refused, int RefusedCalls)? after, bool again, ref string? said)
            {
                if (after is null || after.Value.Sent < 10)
                {
                    _checkPending = again;
                    return false;
                }
                _checkPending = false;
                var (sent, accepted, refused, refusedCalls) = after.Value;
                double share = (double)refused / sent;
                double sentRatio = (double)sent / Math.Max(1, _sentAtFirstCut);
                double acceptedRatio = (double)accepted / Math.Max(1, _acceptedAtFirstCut);
                InternalLogger.Debug("Firehose quota check: {0:P0} refused (at the first cut {1:P0}); sent {2:0.00}x, accepted {3:0.00}x of then", share, _shareAtFirstCut, sentRatio, acceptedRatio);
                // 10% or more in three calls or more (a quota's edge may refuse a few percent, or one packed record a
                // second), about the share that began the series, and the accepted
                // count down about as much as the sent one (a quota lowered meanwhile lets through less still).
                if (share < 0.1 || refusedCalls < 3 || share < 0.5 * _shareAtFirstCut || share > 2 * _shareAtFirstCut || sentRatio > 0.8
                    || acceptedRatio > (1 + sentRatio) / 2 || acceptedRatio < 0.6 * sentRatio)
                    return false;
                _fault = Math.Max(_fault, share);
                said = $"{share:P0} of records refused whatever the rate: a fault, not the stream's quota";
                return true;
            }

            private static string Describe(double records, double bytes) =>
                bytes > 0 ? $"{records:0} events/s and {bytes / 1024:0} KiB/s" : $"{records:0} events/s";
        }

        /// <summary>
        /// Events sent, accepted and refused in the last second, in slots of a tenth of a second (the current one and the
        /// ten before it: a whole second at least); and in each of the
        /// last five whole seconds (of the Stopwatch's clock).
        /// </summary>
        private sealed class SecondWindow
        {
            private const int Slots = 11; // the current tenth of a second and the ten before it
            private const int Seconds = 5;
            private readonly long[] _slot = new long[Slots];
            private readonly long[] _sent = new long[Slots];
            private readonly long[] _accepted = new long[Slots];
            private readonly long[] _acceptedBytes = new long[Slots];
            private readonly long[] _refused = new long[Slots];
            private readonly int[] _refusedCalls = new int[Slots];
            private readonly int[] _spentCalls = new int[Slots];
            private readonly long[] _whole = new long[Seconds];
            private readonly long[] _wholeSent = new long[Seconds];
            private readonly long[] _wholeAccepted = new long[Seconds];
            private readonly long[] _wholeAcceptedBytes = new long[Seconds];
            private readonly long[] _wholeRefused = new long[Seconds];
            private readonly int[] _wholeRefusedCalls = new int[Seconds];

            public void Add(long now, int sent, int accepted, long acceptedBytes, int refused)
            {
                long slot = now / (Stopwatch.Frequency / 10);
                int i = (int)(slot % Slots);
                if (_slot[i] != slot)
                {
                    _slot[i] = slot;
                    _sent[i] = _accepted[i] = _acceptedBytes[i] = _refused[i] = 0;
                    _refusedCalls[i] = _spentCalls[i] = 0;
                }
                if (refused > 0)
                    _refusedCalls[i]++;
                if (refused >= 0.9 * sent)
                    _spentCalls[i]++;
                _sent[i] += sent;
                _accepted[i] += accepted;
                _acceptedBytes[i] += acceptedBytes;
                _refused[i] += refused;

                long whole = now / Stopwatch.Frequency;
                int w = (int)(whole % Seconds);
                if (_whole[w] != whole)
                {
                    _whole[w] = whole;
                    _wholeSent[w] = _wholeAccepted[w] = _wholeAcceptedBytes[w] = _wholeRefused[w] = 0;
                    _wholeRefusedCalls[w] = 0;
                }
                if (refused > 0)
                    _wholeRefusedCalls[w]++;
                _wholeSent[w] += sent;
                _wholeAccepted[w] += accepted;
                _wholeAcceptedBytes[w] += acceptedBytes;
                _wholeRefused[w] += refused;
            }

            public (long Sent, long Accepted, long AcceptedBytes, long Refused, int RefusedCalls, int SpentCalls) Sum(long now)
            {
                long slot = now / (Stopwatch.Frequency / 10);
                long sent = 0, accepted = 0, acceptedBytes = 0, refused = 0;
                int refusedCalls = 0, spentCalls = 0;
                for (int i = 0; i < Slots; i++)
                {
                    if (_slot[i] <= slot - Slots || _slot[i] > slot)
                        continue;
                    sent += _sent[i];
                    accepted += _accepted[i];
                    acceptedBytes += _acceptedBytes[i];
                    refused += _refused[i];
                    refusedCalls += _refusedCalls[i];
                    spentCalls += _spentCalls[i];
                }
                return (sent, accepted, acceptedBytes, refused, refusedCalls, spentCalls);
            }

            /// <summary>Whole second <paramref name="second"/> (a Stopwatch second), when it is one of the last five and anything was sent in it.</summary>
            public (long Sent, long Accepted, long Refused, int RefusedCalls)? Whole(long second)
            {
                int w = (int)(second % Seconds);
                return _whole[w] == second && second > 0 ? (_wholeSent[w], _wholeAccepted[w], _wholeRefused[w], _wholeRefusedCalls[w]) : null;
            }

            /// <summary>The most accepted (events, and their bytes) in this whole second so far or the one before.</summary>
            public (long Accepted, long AcceptedBytes) MostAccepted(long now)
            {
                long second = now / Stopwatch.Frequency;
                int w = (int)(second % Seconds), before = (int)((second - 1) % Seconds);
                var current = _whole[w] == second ? (_wholeAccepted[w], _wholeAcceptedBytes[w]) : (0L, 0L);
                var last = _whole[before] == second - 1 ? (_wholeAccepted[before], _wholeAcceptedBytes[before]) : (0L, 0L);
                return current.Item1 >= last.Item1 ? current : last;
            }
        }
    }
}
