using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Delivery;
using NLog.Targets.Firehose.Internal.Diagnostics;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// The quota learner on a test clock: what it learns from one throttled second, that it leaves a healthy stream
    /// alone, that it tells a fault's refusals from the quota's, and — against a simulated stream quota, one call per
    /// 10 ms while the rate allows — that it stays just under the quota and follows it when it is raised or lowered.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public sealed class QuotaLearnerTests
    {
        private static readonly long Second = Stopwatch.Frequency;
        private static readonly HashSet<string> None = new HashSet<string>();

        [TestMethod]
        public void Throttled_RateIsJustUnderWhatWasAcceptedInTheLastSecond()
        {
            long now = Second * 100;
            var cap = new RateCap(0, 0, () => now);
            var statistics = new TargetStatistics();
            var learner = new QuotaLearner(cap, statistics, "test", () => now);
            for (int i = 0; i < 10; i++, now += Second / 10)
                learner.Observe("s", 500, 500, 500 * 200, 0); // 5,000 events (1 MB) accepted in a second
            Assert.IsFalse(cap.IsOn, "not throttled: nothing limited");
            Assert.AreEqual((0.0, 0.0), learner.Rate("s"));

            now -= Second / 20;
            for (int i = 0; i < 7; i++)
                learner.Observe("s", 500, 0, 0, 500); // the quota is spent: refused
            Assert.AreEqual((0.0, 0.0), learner.Rate("s"), "refused calls in a row: the next one may still be accepted (a fault's)");
            learner.Observe("s", 500, 0, 0, 500); // eight in a row are a spent quota's
            var (records, bytes) = learner.Rate("s");
            Assert.AreEqual(0.95 * 5_000, records, 0.001, "95% of what Firehose accepted in the last second");
            Assert.AreEqual(0.95 * 1_000_000, bytes, 0.001, "and of its bytes");
            Assert.IsTrue(cap.IsOn);
            Assert.AreEqual(records, learner.Rates.Single(r => r.Key == "s").Value.Records, "the meter's gauge reads it");

            learner.Observe("s", 500, 0, 0, 500);
            Assert.AreEqual(records, learner.Rate("s").Records, "at most one decrease a second: calls already in flight are refused too");
            Assert.AreEqual((0.0, 0.0), learner.Rate("other"), "per stream");
        }

        [TestMethod]
        public void WholeCallsRefusedWhateverTheRate_AFaultNotTheQuota_DeliveryNotHeldBack()
        {
            // A flaky backend (30% of calls answered with every record refused, at any rate) starved delivery: the learner
            // took it for a quota and cut the rate nine times, to 400-1,500 events/s of ~35,000.
            for (int seed = 1; seed <= 8; seed++)
            {
                var off = new QuotaSimulation(quota: int.MaxValue, learn: false, seed: seed) { CallFaultShare = 0.3 };
                off.Run(seconds: 30);
                var sim = new QuotaSimulation(quota: int.MaxValue, seed: seed) { CallFaultShare = 0.3 };
                sim.Run(seconds: 30);
                Assert.IsTrue(sim.Cuts - sim.Undone <= 1, $"seed {seed}: decreases are undone once the refusals are found a fault's: {sim}");
                for (int block = 0; block < 6; block++)
                {
                    long with = sim.Seconds.Skip(block * 5).Take(5).Sum(s => s.Accepted);
                    long without = off.Seconds.Skip(block * 5).Take(5).Sum(s => s.Accepted);
                    Assert.IsTrue(with >= 0.6 * without, $"seed {seed}, seconds {block * 5}-{block * 5 + 5}: {with} accepted against {without} without learning: {sim}");
                }
                Assert.IsTrue(sim.Accepted >= 0.9 * off.Accepted, $"seed {seed}: {sim.Accepted} accepted against {off.Accepted} without learning: {sim}");
            }
        }

        [TestMethod]
        public void RecordsRefusedWhateverTheRate_AFaultNotTheQuota_DecreaseUndoneAtOnce()
        {
            // Its earlier version refused records one by one in calls of 500, so no call was ever spent, the learner never
            // cut, and the test passed with the fault check switched off. Calls of ten: chance refuses some nearly whole.
            var off = new QuotaSimulation(quota: int.MaxValue, learn: false) { FaultShare = 0.5, CallSize = 10 };
            off.Run(seconds: 20);
            var sim = new QuotaSimulation(quota: int.MaxValue) { FaultShare = 0.5, CallSize = 10 }; // half of every call refused, at any rate
            sim.Run(seconds: 20);
            Assert.IsTrue(sim.Cuts >= 1 && sim.Undone >= 1, "the first refusals look like a quota: a decrease, tried and undone: " + sim);
            Assert.IsTrue(sim.Cuts <= 2, "once the fault's share is known, it does not cut again and again: " + sim);
            Assert.AreEqual(0.0, sim.Rate, "not limited in the end: " + sim);
            Assert.AreEqual(0.5, sim.LearnedFaultShare, 0.1, "the fault's share is known: " + sim);
            Assert.IsTrue(sim.Accepted >= 0.85 * off.Accepted, $"{sim.Accepted} accepted against {off.Accepted} without learning: {sim}");
        }

        [TestMethod]
        public void UnderAStreamQuota_StaysJustUnder_FollowsItRaisedAndLowered()
        {
            var sim = new QuotaSimulation(quota: 5_000);
            sim.Run(seconds: 15);
            var steady = sim.Seconds.Skip(3).Take(12).ToList();
            Assert.IsTrue(steady.All(s => s.Accepted >= 4_000), "close to the quota: " + sim);
            Assert.IsTrue(sim.Refused <= 0.25 * sim.Accepted, "refused at most a quarter of what was accepted: " + sim);
            Assert.IsTrue(steady.Sum(s => s.Refused) <= 0.1 * steady.Sum(s => s.Accepted), "once learned, refusals are rare: " + sim);

            sim.Quota = 20_000; // raised while the application runs
            sim.Run(seconds: 15);
            Assert.IsTrue(sim.Seconds.Skip(15 + 6).All(s => s.Accepted >= 16_000), "a raised quota is used within 6 s: " + sim);

            sim.Quota = 2_000; // lowered
            sim.Run(seconds: 10);
            var lowered = sim.Seconds.Skip(30 + 3).ToList();
            Assert.IsTrue(lowered.All(s => s.Accepted >= 1_600) && lowered.Sum(s => s.Refused) <= 0.1 * lowered.Sum(s => s.Accepted), "a lowered quota is followed within 3 s: " + sim);
        }

        [TestMethod]
        public void QuotaWithAFaultsRefusalsBesideIt_StillLearned()
        {
            var sim = new QuotaSimulation(quota: 5_000) { FaultShare = 0.2 };
            sim.Run(seconds: 20);
            var steady = sim.Seconds.Skip(8).ToList();
            Assert.IsTrue(steady.All(s => s.Accepted >= 3_500), "close to the quota: " + sim);
            Assert.IsTrue(sim.QuotaRefused <= sim.Accepted, "the quota's refusals stay below what is accepted (without learning: nine times as many): " + sim);
        }

        [TestMethod]
        public void QuotaWithAFaultRefusingWholeCallsBesideIt_StillLearned()
        {
            var paces = new List<double>();
            for (int seed = 1; seed <= 8; seed++)
            {
                var sim = new QuotaSimulation(quota: 5_000, seed: seed) { CallFaultShare = 0.3 };
                sim.Run(seconds: 30);
                Assert.IsTrue(sim.Rate > 0, $"seed {seed}: the quota is learned: {sim}");
                Assert.IsTrue(sim.QuotaRefused <= 0.25 * sim.Accepted, $"seed {seed}: the quota's refusals stay under a quarter of what is accepted (without learning: nine times as many): {sim}");
                double pace = sim.Seconds.Skip(5).Average(s => s.Accepted) / 5_000;
                Assert.IsTrue(pace >= 0.75, $"seed {seed}: {pace:0.00} of the quota's pace: {sim}");
                paces.Add(pace);
            }
            Assert.IsTrue(paces.Average() >= 1 / 1.2, "within 1.2 times the quota's pace, on average: " + string.Join(", ", paces.Select(p => p.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture))));
        }

        /// <summary>
        /// One stream sending flat out through the cap into a quota counted per clock second, as Firehose's is: calls of
        /// 500 events or what the cap allows, less up to a tenth (they vary in size, as the pipeline's do).
        /// </summary>
        internal sealed class QuotaSimulation
        {
            private readonly RateCap _cap;
            private readonly QuotaLearner _learner;
            private readonly DeliveryStreams _streams = new DeliveryStreams();
            private readonly Random _random;
            private long _now = Second * 1000;
            private long _second = -1;
            private int _used;
            private readonly List<double> _rates = new List<double>();
            private readonly bool _learn;

            public QuotaSimulation(int quota, bool learn = true, int seed = 7)
            {
                _random = new Random(seed);
                Quota = quota;
                _learn = learn;
                _cap = new RateCap(0, 0, () => _now, _streams);
                _learner = new QuotaLearner(_cap, new TargetStatistics(), "sim", () => _now, _streams);
            }

            public int Quota { get; set; }

            /// <summary>The share of records a fault refuses one by one, at any rate.</summary>
            public double FaultShare { get; set; }

            /// <summary>The share of calls a fault refuses whole (every record of a 200 refused), at any rate.</summary>
            public double CallFaultShare { get; set; }

            /// <summary>Records in a call when the rate allows a full one.</summary>
            public int CallSize { get; set; } = 500;

            public int Undone { get; private set; }

            public double Rate => _learner.Rate("s").Records;

            public double LearnedFaultShare => _streams.Of("s").Rate?.Fault ?? 0;

            public List<(long Accepted, long Refused)> Seconds { get; } = new List<(long, long)>();

            public long Accepted => Seconds.Sum(s => s.Accepted);

            public long Refused => Seconds.Sum(s => s.Refused);

            public long QuotaRefused { get; private set; }

            public int Cuts { get; private set; }

            public void Run(int seconds)
            {
                for (int s = 0; s < seconds; s++)
                {
                    long accepted = 0, refused = 0;
                    for (int tick = 0; tick < 1000; tick++, _now += Second / 1000)
                    {
                        // One call per 10 ms flat out; under the cap, as soon as the stream's bucket allows (the pipeline
                        // has several call slots).
                        if (_cap.IsOn ? _cap.Waiting(None, out _).Contains("s") : tick % 10 != 0)
                            continue;
                        int records = Math.Min(CallSize, _cap.Allowance("s").Records);
                        records -= _random.Next(records / 10 + 1); // calls vary in size, as the pipeline's do
                        bool callFails = _random.NextDouble() < CallFaultShare;
                        _cap.Spend("s", records, records * 200L);
                        int ok = 0, throttled = 0;
                        for (int r = 0; r < records; r++)
                        {
                            long second = _now / Second;
                            if (second != _second)
                            {
                                _second = second;
                                _used = 0;
                            }
                            if (callFails || _random.NextDouble() < FaultShare)
                                throttled++;
                            else if (_used >= Quota)
                            {
                                throttled++;
                                QuotaRefused++;
                            }
                            else
                            {
                                _used++;
                                ok++;
                            }
                        }
                        double before = _learner.Rate("s").Records;
                        if (_learn)
                            _learner.Observe("s", records, ok, ok * 200L, throttled);
                        double after = _learner.Rate("s").Records;
                        if (after > 0 && (after < before * 0.97 || before == 0))
                            Cuts++;
                        else if (before > 0 && (after > before * 1.2 || after == 0))
                            Undone++;
                        accepted += ok;
                        refused += throttled;
                    }
                    Seconds.Add((accepted, refused));
                    _rates.Add(_learner.Rate("s").Records);
                }
            }

            public override string ToString() => string.Join(" ", Seconds.Select((s, i) => $"{s.Accepted}/{s.Refused}@{_rates[i]:0}")) + $" (rate {_learner.Rate("s").Records:0}, {Cuts} cuts, {Undone} undone, fault {LearnedFaultShare:P0})";
        }
    }
}
