using System;
using System.Diagnostics;
using NLog.Common;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// One stream's learned rate (see <see cref="QuotaLearner"/> for the rule), the outcomes it is learned from, the share
    /// a fault refuses, and the decrease on trial. Not thread-safe: the learner holds its lock.
    /// </summary>
    internal sealed class StreamRate
    {
        private const double Margin = 0.95;
        private const double FloorRecords = 10;
        private const double FloorBytes = 10_000;
        private const double MaxLift = 0.5; // a fault's share raises the rate by at most 1 / (1 - this)
        private const int TrialCalls = 20;
        private static readonly long Second = Stopwatch.Frequency;

        public readonly SecondWindow Window = new SecondWindow();

        /// <summary>Events and bytes per second sent at most (0: not limited).</summary>
        public double Records;

        public double Bytes;

        /// <summary>The share of events a fault refuses whatever the rate (0: none known).</summary>
        public double Fault;

        /// <summary>Decreases made, and those undone as a fault's.</summary>
        public int Decreases;

        public int Undone;

        private bool _faultWholeCalls; // the fault refuses calls whole: a call refused in part is the quota's
        private long _faultSecond;
        private long _changed = long.MinValue / 4; // long ago, without overflowing "now - _changed"
        private long _looked = long.MinValue / 4; // when refusals were last looked at afresh
        private long _lastRefused;
        private long _grown;
        private bool _saidQuota;
        private int _spentRun; // calls in a row with 90% or more refused
        private long _sinceRun; // events (and their bytes) accepted since the last run of spent calls (a quota's) ended
        private long _sinceRunBytes;
        private bool _runEnded; // a run of spent calls ended: what was accepted since is a quota's second or more
        private long _sincePart; // events (and their bytes) accepted since the last call refused in part
        private long _sincePartBytes;
        private long _lastPart = long.MinValue / 4;
        private long _betweenParts; // and between the last two such calls, that many seconds apart
        private long _betweenPartsBytes;
        private double _betweenPartsSeconds;
        private readonly (long Second, double Records, double Bytes)[] _history = new (long, double, double)[3]; // the rate as each of the last seconds began

        private Phase _phase;
        private long _phaseStart;
        private Evidence _evidence; // what the decrease on trial followed
        private Tally _reference; // the refusals it is judged against
        private double _recordsBefore;
        private double _bytesBefore;
        private Tally _since;
        private int _longestRun; // the longest run of spent calls the trial saw
        private int _spentRuns; // and how many runs of spent calls

        private enum Phase
        {
            /// <summary>Sending at the rate, growing it while it holds the stream back.</summary>
            Steady,

            /// <summary>Refusals looked beyond chance: a fresh look at the same rate tells.</summary>
            Confirming,

            /// <summary>A decrease on trial.</summary>
            Trial,
        }

        /// <summary>Why the stream looks over its quota.</summary>
        private enum Evidence
        {
            None,

            /// <summary>Calls refused whole, in a row: a spent quota refuses every call until its second ends.</summary>
            Run,

            /// <summary>A call refused in part, beside a fault that refuses calls whole: a quota spent within a call refuses its rest.</summary>
            Part,

            /// <summary>More refused than a known fault's share and chance would: a quota's, or a fault's not known yet.</summary>
            Chance,
        }

        private enum Verdict
        {
            Pending,
            Kept,
            Undone,
            Decreased,
        }

        /// <summary>Books a call's outcome and decides; true when the rate changed.</summary>
        public bool Step(long now, in Tally outcome, ref string? said)
        {
            Window.Add(now, outcome);
            long second = now / Second;
            if (_history[second % 3].Second != second)
                _history[second % 3] = (second, Records, Bytes);
            bool runEnded = outcome.SpentCalls == 0 && _spentRun > 0;
            if (runEnded && _spentRun >= SpentRun())
                (_sinceRun, _sinceRunBytes, _runEnded) = (0, 0, true); // a spent quota's refusals end as its next second begins
            _spentRun = outcome.SpentCalls > 0 ? _spentRun + 1 : 0;
            _sinceRun += outcome.Accepted;
            _sinceRunBytes += outcome.AcceptedBytes;
            (_sincePart, _sincePartBytes) = (_sincePart + outcome.Accepted, _sincePartBytes + outcome.AcceptedBytes);
            if (outcome.PartCalls > 0)
            {
                // A quota spent within this call: what was accepted since the last such call is one of its seconds' worth.
                (_betweenParts, _betweenPartsBytes, _betweenPartsSeconds) = (_sincePart, _sincePartBytes, (now - _lastPart) / (double)Second);
                (_sincePart, _sincePartBytes, _lastPart) = (0, 0, now);
            }
            var last = Window.Sum(now);
            switch (_phase)
            {
                case Phase.Trial:
                    if (now - _phaseStart >= Second)
                    {
                        _since.Add(outcome); // a quota counted per second stays spent for the rest of the second it was spent in
                        _longestRun = Math.Max(_longestRun, _spentRun);
                        if (_spentRun == 1)
                            _spentRuns++;
                        if (_spentRun >= SpentRun() && Over(now, last) == Evidence.Run)
                        {
                            // Spent again once the second it was spent in is over: the decrease was not enough (a quota
                            // lowered meanwhile), the next one follows at once.
                            _phase = Phase.Steady;
                            Decrease(now, last, Evidence.Run, ref said);
                            return true;
                        }
                    }
                    var verdict = Judge(now, ref said);
                    if (verdict != Verdict.Kept)
                    {
                        _grown = now;
                        return verdict != Verdict.Pending;
                    }
                    break; // kept: over again at once is another decrease
                case Phase.Confirming:
                    if (now >= _phaseStart)
                        _since.Add(outcome);
                    _grown = now;
                    if (Over(now, last) is var evidence && evidence is Evidence.Run or Evidence.Part)
                    {
                        Decrease(now, last, evidence, ref said);
                        return true;
                    }
                    return Confirm(now, ref said);
            }

            bool changed = FollowFault(now);
            var over = (outcome.Refused > 0 || runEnded) && now - _changed >= Second && now - _looked >= Second
                ? Over(now, last) : Evidence.None;
            if (over == Evidence.None)
                return Grow(now, last) || changed;
            _lastRefused = now;
            if (over != Evidence.Chance)
            {
                Decrease(now, last, over, ref said);
                return true;
            }
            _phase = Phase.Confirming;
            _grown = now;
            _since = default;
            bool retracted = Retract(now);
            _phaseStart = retracted ? now + Second : now; // after a retraction, once the quota's spent second is over
            return retracted || changed;
        }

        /// <summary>
        /// How many spent calls in a row tell a spent quota: 8, or as many as a known fault refusing whole calls makes
        /// once in a million calls (a fault refusing 30% of calls: 12).
        /// </summary>
        private int SpentRun() =>
            Fault <= 0.18 || !_faultWholeCalls ? 8 : (int)Math.Min(60, Math.Ceiling(Math.Log(1e-6) / Math.Log(Fault)));

        /// <summary>
        /// Whether the stream looks over its quota, and why: a call of the last second found the quota spent (90% or more
        /// of its events refused), refusals in two calls or more of at least 100 events, while Firehose accepts some (a
        /// stream that accepts nothing is in an outage, which backing off handles: it tells no rate); and a run of spent
        /// calls, a call refused in part beside a fault that refuses calls whole, or, of ten calls or more over half a
        /// second or more, more refused than chance and a known fault's share would refuse: in the last second (2%
        /// when none is known), or since the rate last changed (up to four seconds, against a fault's chance).
        /// </summary>
        private Evidence Over(long now, in Tally last)
        {
            if (last.SpentCalls < 1 || last.RefusedCalls < 2 || last.Sent < 100 || last.Accepted == 0)
                return Evidence.None;
            if (_spentRun >= SpentRun())
                return Evidence.Run;
            if (Fault > 0 && _faultWholeCalls && last.PartCalls > 0)
                return Evidence.Part;
            if (last.Calls < 10 || Window.Span(now) < 0.5)
                return Evidence.None;
            return Beyond(Fault > 0 ? Recent(now) : last) ? Evidence.Chance : Evidence.None;
        }

        /// <summary>
        /// Whether <paramref name="tally"/> refused more than a known fault's share (or 2%) and chance would (two standard
        /// deviations, in whole calls when the fault refuses calls whole).
        /// </summary>
        private bool Beyond(in Tally tally)
        {
            double beyond = Fault > 0 ? Fault + 0.05 : 0.02;
            double spread = tally.Spread(Math.Max(Fault, 0.01), Fault > 0 && _faultWholeCalls);
            return tally.Refused > tally.Sent * beyond + 2 * spread;
        }

        /// <summary>This whole second and the one before; and the two before those, when they came after the rate last changed.</summary>
        private Tally Recent(long now)
        {
            long second = now / Second, changed = Math.Max(_changed, _looked) / Second;
            var recent = Window.Whole(second) ?? default;
            for (long s = second - 1; s >= second - 3 && (s == second - 1 || s > changed); s--)
            {
                if (Window.Whole(s) is { } whole)
                    recent.Add(whole);
            }
            return recent;
        }

        /// <summary>
        /// The rate goes back to what it was as the last second began, when it grew 10% or more since (refusals that
        /// follow a probe upward are most likely its own), or to 95% of the most accepted in a whole second since, if
        /// more (a raised quota found).
        /// </summary>
        private bool Retract(long now)
        {
            long second = now / Second;
            var (then, records, bytes) = _history[(second - 1) % 3];
            if (then != second - 1 || records <= 0 || records * 1.1 > Records)
                return false;
            var (accepted, acceptedBytes) = Window.MostAccepted(now);
            double lift = Lift(Fault);
            if (accepted * Margin * lift > records)
                (records, bytes) = (Math.Min(Records, accepted * Margin * lift), Bytes > 0 ? Math.Min(Bytes, acceptedBytes * Margin * lift) : 0);
            (Records, Bytes) = (records, bytes);
            return true;
        }

        /// <summary>
        /// A fresh look at the same rate, unswayed by what made it look (a second or more, of 20 calls or more; 4 s at
        /// most): beyond a fault's share and chance, a decrease on trial; otherwise nothing changes.
        /// </summary>
        private bool Confirm(long now, ref string? said)
        {
            double seconds = Math.Max(0, now - _phaseStart) / (double)Second;
            if ((seconds < 1 || _since.Calls < TrialCalls) && (seconds < 4 || _since.Calls < 5))
            {
                if (seconds >= 7)
                    _phase = Phase.Steady;
                return false;
            }
            _phase = Phase.Steady;
            _looked = now; // what looked over is looked at again only with outcomes from now on
            bool beyond = Beyond(_since);
            InternalLogger.Debug("Firehose quota: a fresh look, {0:P0} refused of {1} calls ({2}a fault's share of {3:P0} and chance)",
                _since.Share, _since.Calls, beyond ? "beyond " : "within ", Fault);
            if (!beyond)
                return false;
            // What Firehose accepted a second meanwhile, or the most in a whole second of the last four if less (a quota
            // counted per clock second lets through twice its worth in a little more than a second); at most 90% of what
            // was sent a second, and with a tenth or more refused and no fault known, 75% (a smaller decrease could not
            // tell a quota from a fault).
            var sample = _since;
            var (accepted, acceptedBytes) = Window.MostAccepted(now, before: 3);
            if (sample.Accepted / seconds < accepted && sample.Accepted > 0)
                (accepted, acceptedBytes) = ((long)(sample.Accepted / seconds), (long)(sample.AcceptedBytes / seconds));
            double limit = (Fault == 0 && sample.Share >= 0.1 ? 0.75 : 0.9) * sample.Sent / seconds;
            double factor = accepted > limit ? limit / accepted : 1;
            _evidence = Evidence.Chance;
            Decrease(now, accepted * factor, acceptedBytes * factor, sample, ref said);
            return true;
        }

        /// <summary>
        /// A decrease after a run of spent calls or a call refused in part: what the quota let through is the most
        /// accepted in a whole second — this one or the one before after a run, or less: what the last second accepted
        /// if all at the current rate, or what was accepted since the last run of spent calls ended (a whole second of the
        /// stream's may span two of a quota counted per clock second, and see twice the quota) — or of the last four
        /// beside a fault (whose chance only ever lowers what a quota lets through), or less: what was accepted between the
        /// last two calls refused in part, about a second apart.
        /// </summary>
        private void Decrease(long now, in Tally last, Evidence evidence, ref string? said)
        {
            var (quota, quotaBytes) = Window.MostAccepted(now, before: evidence == Evidence.Run ? 1 : 3);
            if (evidence == Evidence.Run && last.Accepted < quota && now - _changed > Second * 11 / 10)
                (quota, quotaBytes) = (last.Accepted, last.AcceptedBytes);
            if (evidence == Evidence.Run && _runEnded && _sinceRun < quota)
                (quota, quotaBytes) = (_sinceRun, _sinceRunBytes); // what it let through since its last second's refusals ended
            if (evidence == Evidence.Part && _betweenPartsSeconds >= 0.5 && _betweenPartsSeconds <= 1.5 && _betweenParts < quota)
                (quota, quotaBytes) = (_betweenParts, _betweenPartsBytes); // what it let through between two seconds it was spent in
            _evidence = evidence;
            Decrease(now, quota, quotaBytes, last, ref said);
        }

        /// <summary>A decrease, on trial: to 95% of what the quota let through a second, raised for a known fault's share.</summary>
        private void Decrease(long now, double quota, double quotaBytes, in Tally reference, ref string? said)
        {
            double lift = Lift(Fault);
            double records = quota * Margin * lift;
            double bytes = quotaBytes * Margin * lift;
            (_recordsBefore, _bytesBefore, _reference) = (Records, Bytes, reference);
            Decreases++;
            Records = Math.Max(FloorRecords, Records > 0 ? Math.Min(records, Records * Margin) : records);
            Bytes = bytes <= 0 ? Bytes : Math.Max(FloorBytes, Bytes > 0 ? Math.Min(bytes, Bytes * Margin) : bytes);
            _phase = Phase.Trial;
            _phaseStart = _changed = _grown = _lastRefused = now;
            _since = default;
            _longestRun = _spentRuns = 0;
            if (!_saidQuota)
                said = $"over its quota ({reference.Share:P0} of records refused): sending at most {Describe(Records, Bytes)} from now on, learned from throttling";
            _saidQuota = true;
            InternalLogger.Debug("Firehose quota: {0:P0} refused; rate now {1}", reference.Share, Describe(Records, Bytes));
        }

        /// <summary>
        /// Whether the decrease on trial paid, judged once a second of outcomes sent after it (the quota's spent second
        /// over), of 20 calls or more, is in (7 s at most: with fewer by then, it stays). After a run of spent calls or a
        /// call refused in part, a quota's: kept, and what is still refused below the quota is a fault's share. After
        /// refusals beyond chance alone: kept when the share fell by more than chance (two standard deviations, in whole
        /// calls), nearer a known fault's share (none: nothing) than the share before, or to nothing; kept too when it rose
        /// beyond chance (the quota was lowered meanwhile: another decrease may follow at once). Otherwise the refusals
        /// were a fault's: the decrease is undone at once, and the share refused at the lower rate is the fault's from then
        /// on.
        /// </summary>
        private Verdict Judge(long now, ref string? said)
        {
            if ((now - _phaseStart < Second * 2 || _since.Calls < TrialCalls) && now - _phaseStart < Second * 7)
                return Verdict.Pending;
            _phase = Phase.Steady;
            var after = _since;
            if (after.Calls < 5)
                return Verdict.Kept; // too little sent to tell
            double share = after.Share, before = _reference.Share;
            bool wholeCalls = after.SpentCalls * 2 >= after.RefusedCalls;
            InternalLogger.Debug("Firehose quota trial: {0:P0} refused after the decrease, {1:P0} before, {2} calls", share, before, after.Calls);
            if (_evidence != Evidence.Chance)
            {
                if (StillSpent(after))
                {
                    // Still over: the quota let through less than the decrease took it for (it was lowered meanwhile, or
                    // a second of the stream's saw two of its seconds). What it let through a second since is the next one.
                    double seconds = (now - _phaseStart - Second) / (double)Second;
                    Decrease(now, after.Accepted / seconds, after.AcceptedBytes / seconds, after, ref said);
                    return Verdict.Decreased;
                }
                // Refused below the quota: a fault's share, refusing calls whole or events one by one. As much refused as
                // before, a run of spent calls, or calls refused whole after one refused in part (a quota spent within a
                // call refuses its rest, and every call after it that second) still say over it (the quota was lowered
                // further, or what it let through was taken from a second before it was lowered): another decrease follows.
                bool oneKind = after.PartCalls == 0 || after.PartCalls * 2 > after.RefusedCalls;
                if (share >= 0.05 && share < before && after.RefusedCalls >= 3 && oneKind && !StillSpent(after))
                {
                    SetFault(share, wholeCalls);
                    InternalLogger.Debug("Firehose quota: {0:P0} still refused below the quota, a fault's (whole calls: {1})", share, wholeCalls);
                }
                return Verdict.Kept;
            }
            // The two shares' difference against what chance makes of it, were both a fault's (in whole calls).
            double pooled = (double)(after.Refused + _reference.Refused) / (after.Sent + _reference.Sent);
            double spread = Math.Sqrt(pooled * (1 - pooled) * (after.SizeSquares / ((double)after.Sent * after.Sent)
                + _reference.SizeSquares / ((double)_reference.Sent * _reference.Sent)));
            double z = spread > 0 ? (share - before) / spread : 0;
            if ((z <= -2 && share <= (Fault + before) / 2) || (share == 0 && after.Calls >= TrialCalls) || z >= 2.5 || StillSpent(after))
                return Verdict.Kept; // paid (or refusals ended); or the quota lowered meanwhile, and still spent

            bool known = Fault > 0;
            Records = _recordsBefore;
            Bytes = _bytesBefore;
            Undone++;
            _changed = _grown = now;
            if (share >= 0.02 && after.RefusedCalls >= 2)
                SetFault(share, wholeCalls);
            string rate = Records > 0 ? "rate back to " + Describe(Records, Bytes) : "not limited";
            if (!known && Fault > 0)
                said = $"{share:P0} of records refused whatever the rate: a fault, not the stream's quota; {rate}";
            else
                InternalLogger.Debug("Firehose quota: {0:P0} refused whatever the rate, a fault's; {1}", share, rate);
            return Verdict.Undone;
        }

        /// <summary>
        /// Whether the trial's calls refused whole came as a spent quota's do, in runs (every call until its second ends),
        /// not scattered as a fault's: a run of <see cref="SpentRun"/>, or runs of three or more on average and half again
        /// as long as a fault refusing that share of calls would make by chance (1 / (1 - share)).
        /// </summary>
        private bool StillSpent(in Tally after)
        {
            if (_longestRun >= SpentRun())
                return true;
            if (after.SpentCalls < 6 || _spentRuns == 0)
                return false;
            double meanRun = (double)after.SpentCalls / _spentRuns;
            return meanRun >= Math.Max(3, 1.5 / Math.Max(0.05, 1 - after.Share));
        }

        /// <summary>
        /// Follows a fault's share once a whole second. In a second no quota can have refused in (sent well under a learned
        /// rate), every refusal is the fault's: followed both ways. Otherwise only down, as it lessens or ends (a quota's
        /// refusals are not a fault's; calls may end where a quota's second does, so a second with no call refused in part
        /// does not tell). True when the rate changed with it.
        /// </summary>
        private bool FollowFault(long now)
        {
            long second = now / Second;
            if (Fault <= 0 || second == _faultSecond || Window.Whole(second - 1) is not { Sent: >= 50 } last)
                return false;
            _faultSecond = second;
            double share = last.Share;
            bool quotaMayRefuse = Records <= 0 || last.Sent >= 0.8 * Records;
            double next = !quotaMayRefuse ? 0.8 * Fault + 0.2 * share
                : share < Fault ? 0.9 * Fault + 0.1 * share
                : Fault;
            return SetFault(next < 0.01 ? 0 : next, _faultWholeCalls);
        }

        /// <summary>Takes <paramref name="share"/> as the fault's, lifting or lowering a learned rate with it; true when the rate changed.</summary>
        private bool SetFault(double share, bool wholeCalls)
        {
            double before = Lift(Fault);
            Fault = share;
            _faultWholeCalls = wholeCalls;
            double after = Lift(Fault);
            if (Records <= 0 || before == after)
                return false;
            double factor = after / before;
            Records *= factor;
            Bytes *= factor;
            return true;
        }

        /// <summary>
        /// How much more is sent for a fault's share to leave the quota's worth accepted: its share is known from a few
        /// dozen calls at first, so only three quarters of it are trusted (growing finds the rest).
        /// </summary>
        private static double Lift(double fault) => 1 / (1 - Math.Min(fault, MaxLift));

        /// <summary>Grows the rate while it is what holds the stream back (it sent at least half of it in the last second).</summary>
        private bool Grow(long now, in Tally last)
        {
            if (Records <= 0)
                return false;
            if (now - _changed < Second * 2 || last.Sent < Records / 2)
            {
                _grown = now;
                return false;
            }
            double quiet = (now - _lastRefused) / (double)Second;
            // Beside a fault's refusals a quiet second says less: at most 20% a second then.
            double perSecond = Math.Min(Fault > 0 ? 0.2 : 1.0, 0.05 * Math.Pow(2, Math.Max(0, quiet - 2)));
            double seconds = (now - _grown) / (double)Second;
            if (seconds < 0.1)
                return false;
            _grown = now;
            double factor = 1 + perSecond * Math.Min(seconds, 1);
            Records *= factor;
            Bytes *= factor;
            return true;
        }

        private static string Describe(double records, double bytes) =>
            bytes > 0 ? $"{records:0} events/s and {bytes / 1024:0} KiB/s" : $"{records:0} events/s";
    }
}
