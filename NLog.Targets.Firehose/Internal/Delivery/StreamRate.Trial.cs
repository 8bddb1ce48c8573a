using System;
using NLog.Common;
using static NLog.Targets.Firehose.Internal.Delivery.QuotaRules;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>A stream's rate on trial: the fresh look at refusals, the decrease, and its verdict.</summary>
    internal sealed partial class StreamRate
    {
        /// <summary>
        /// A fresh look at the same rate, unswayed by what made it look (a second or more, of 20 calls or more; 4 s at
        /// most): beyond a fault's share and chance, a decrease on trial; otherwise nothing changes.
        /// </summary>
        private bool Confirm(long now, ref string? said)
        {
            double seconds = Math.Max(0, now - _phaseStart) / (double)Second;
            if ((seconds < LookSeconds || _since.Calls < JudgeCalls) && (seconds < LookSecondsFewCalls || _since.Calls < FewestCallsToJudge))
            {
                if (seconds >= GiveUpSeconds)
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
            double limit = (Fault == 0 && sample.Share >= StrongShare ? ChanceDecreaseStrong : ChanceDecrease) * sample.Sent / seconds;
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
            if (evidence == Evidence.Run && last.Accepted < quota && now - _changed > Second * SettledSeconds)
                (quota, quotaBytes) = (last.Accepted, last.AcceptedBytes);
            if (evidence == Evidence.Run && _runEnded && _sinceRun < quota)
                (quota, quotaBytes) = (_sinceRun, _sinceRunBytes); // what it let through since its last second's refusals ended
            if (evidence == Evidence.Part && Math.Abs(_betweenPartsSeconds - 1) <= 0.5 && _betweenParts < quota) // about a second apart
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
            if ((now - _phaseStart < Second * TrialSeconds || _since.Calls < JudgeCalls) && now - _phaseStart < Second * GiveUpSeconds)
                return Verdict.Pending;
            _phase = Phase.Steady;
            var after = _since;
            if (after.Calls < FewestCallsToJudge)
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
                if (share >= FaultShareFound && share < before && after.RefusedCalls >= FaultRefusedCalls && oneKind && !StillSpent(after))
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
            if ((z <= -ChanceDeviations && share <= (Fault + before) / 2) || (share == 0 && after.Calls >= JudgeCalls) || z >= RoseDeviations || StillSpent(after))
                return Verdict.Kept; // paid (or refusals ended); or the quota lowered meanwhile, and still spent

            bool known = Fault > 0;
            Records = _recordsBefore;
            Bytes = _bytesBefore;
            Undone++;
            _changed = _grown = now;
            if (share >= FaultShareKept && after.RefusedCalls >= LeastRefusedCalls)
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
            if (after.SpentCalls < LeastSpentCalls || _spentRuns == 0)
                return false;
            double meanRun = (double)after.SpentCalls / _spentRuns;
            return meanRun >= Math.Max(LeastMeanRun, RunLengthOverChance / Math.Max(0.05, 1 - after.Share));
        }
    }
}
