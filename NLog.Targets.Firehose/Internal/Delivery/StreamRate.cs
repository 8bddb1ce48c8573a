using System;
using System.Diagnostics;
using static NLog.Targets.Firehose.Internal.Delivery.QuotaRules;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// One stream's learned rate (see <see cref="QuotaLearner"/> for the rule), the outcomes it is learned from, the share
    /// a fault refuses, and the decrease on trial (a fresh look, the decrease and its verdict: <c>StreamRate.Trial.cs</c>;
    /// the numbers: <see cref="QuotaRules"/>). Not thread-safe: the learner holds its lock.
    /// </summary>
    internal sealed partial class StreamRate
    {
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
            Fault <= RunFaultShare || !_faultWholeCalls ? QuotaRules.SpentRun : (int)Math.Min(LongestSpentRun, Math.Ceiling(Math.Log(RunChance) / Math.Log(Fault)));

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
            if (last.SpentCalls < 1 || last.RefusedCalls < LeastRefusedCalls || last.Sent < LeastSentToLook || last.Accepted == 0)
                return Evidence.None;
            if (_spentRun >= SpentRun())
                return Evidence.Run;
            if (Fault > 0 && _faultWholeCalls && last.PartCalls > 0)
                return Evidence.Part;
            if (last.Calls < ChanceCalls || Window.Span(now) < ChanceSeconds)
                return Evidence.None;
            return Beyond(Fault > 0 ? Recent(now) : last) ? Evidence.Chance : Evidence.None;
        }

        /// <summary>
        /// Whether <paramref name="tally"/> refused more than a known fault's share (or 2%) and chance would (two standard
        /// deviations, in whole calls when the fault refuses calls whole).
        /// </summary>
        private bool Beyond(in Tally tally)
        {
            double beyond = Fault > 0 ? Fault + BeyondFault : BeyondNoFault;
            double spread = tally.Spread(Math.Max(Fault, LeastChanceShare), Fault > 0 && _faultWholeCalls);
            return tally.Refused > tally.Sent * beyond + ChanceDeviations * spread;
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
            if (then != second - 1 || records <= 0 || records * ProbeGrowth > Records)
                return false;
            var (accepted, acceptedBytes) = Window.MostAccepted(now);
            double lift = Lift(Fault);
            if (accepted * Margin * lift > records)
                (records, bytes) = (Math.Min(Records, accepted * Margin * lift), Bytes > 0 ? Math.Min(Bytes, acceptedBytes * Margin * lift) : 0);
            (Records, Bytes) = (records, bytes);
            return true;
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
            if (Fault <= 0 || second == _faultSecond || Window.Whole(second - 1) is not { Sent: >= FollowSent } last)
                return false;
            _faultSecond = second;
            double share = last.Share;
            bool quotaMayRefuse = Records <= 0 || last.Sent >= QuotaMayRefuse * Records;
            double next = !quotaMayRefuse ? (1 - FollowStep) * Fault + FollowStep * share
                : share < Fault ? (1 - FollowStepDown) * Fault + FollowStepDown * share
                : Fault;
            return SetFault(next < NoFault ? 0 : next, _faultWholeCalls);
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
        private static double Lift(double fault) => 1 / (1 - Math.Min(fault, MaxFaultLift));

        /// <summary>Grows the rate while it is what holds the stream back (it sent at least half of it in the last second).</summary>
        private bool Grow(long now, in Tally last)
        {
            if (Records <= 0)
                return false;
            if (now - _changed < Second * GrowAfterSeconds || last.Sent < Records * GrowWhenSent)
            {
                _grown = now;
                return false;
            }
            double quiet = (now - _lastRefused) / (double)Second;
            // Beside a fault's refusals a quiet second says less: at most 20% a second then.
            double perSecond = Math.Min(Fault > 0 ? GrowMostBesideFault : GrowMost, GrowStart * Math.Pow(2, Math.Max(0, quiet - GrowAfterSeconds)));
            double seconds = (now - _grown) / (double)Second;
            if (seconds < GrowEverySeconds)
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
