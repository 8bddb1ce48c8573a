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
            learner.Observe("s", 500, 0, 0, 500); // the quota is spent: refused
            Assert.AreEqual((0.0, 0.0), learner.Rate("s"), "one refused call is not yet the quota");
            learner.Observe("s", 500, 0, 0, 500); // two are
            var (records, bytes) = learner.Rate("s");
            Assert.AreEqual(0.95 * 5_000, records, 0.001, "95% of what Firehose accepted in the last second");
            Assert.AreEqual(0.95 * 1_000_000, bytes, 0.001, "and of its bytes");
            Assert.IsTrue(cap.IsOn);
            Assert.AreEqual(records, statistics.LearnedRates.Single(r => r.Key == "s").Value.Records, "the meter's gauge reads it");

            learner.Observe("s", 500, 0, 0, 500);
            Assert.AreEqual(records, learner.Rate("s").Records, "at most one decrease a second: calls already in flight are refused too");
            Assert.AreEqual((0.0, 0.0), learner.Rate("other"), "per stream");
        }

        [TestMethod]
        public void RefusalsWhateverTheRate_AFaultNotTheQuota_DoNotHoldTheStreamBack()
        {
            var sim = new QuotaSimulation(quota: int.MaxValue) { FaultShare = 0.5 }; // half of every call refused, at any rate
            sim.Run(seconds: 12);
            Assert.IsTrue(sim.Cuts <= 2, "the first refusals may look like a quota; once every second refuses the same share, they do not cut: " + sim);
            Assert.IsTrue(sim.Seconds.Skip(8).All(s => s.Accepted >= 0.9 * 25_000), "back to the full rate within seconds (50,000 sent a second, half refused): " + sim);
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

        /// <summary>One stream sending flat out through the cap into a quota counted per clock second, as Firehose's is.</summary>
        private sealed class QuotaSimulation
        {
            private readonly RateCap _cap;
            private readonly QuotaLearner _learner;
            private readonly Random _random = new Random(7);
            private long _now = Second * 1000;
            private long _second = -1;
            private int _used;
            private readonly List<double> _rates = new List<double>();

            public QuotaSimulation(int quota)
            {
                Quota = quota;
                _cap = new RateCap(0, 0, () => _now);
                _learner = new QuotaLearner(_cap, new TargetStatistics(), "sim", () => _now);
            }

            public int Quota { get; set; }

            public double FaultShare { get; set; }

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
                    for (int tick = 0; tick < 100; tick++, _now += Second / 100)
                    {
                        if (_cap.IsOn && _cap.Waiting(None, out _).Contains("s"))
                            continue;
                        int records = Math.Min(500, _cap.Allowance("s").Records);
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
                            if (_random.NextDouble() < FaultShare)
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
                        _learner.Observe("s", records, ok, ok * 200L, throttled);
                        double after = _learner.Rate("s").Records;
                        if (after > 0 && (after < before || before == 0))
                            Cuts++;
                        accepted += ok;
                        refused += throttled;
                    }
                    Seconds.Add((accepted, refused));
                    _rates.Add(_learner.Rate("s").Records);
                }
            }

            public override string ToString() => string.Join(" ", Seconds.Select((s, i) => $"{s.Accepted}/{s.Refused}@{_rates[i]:0}")) + $" (rate {_learner.Rate("s").Records:0}, {Cuts} cuts)";
        }
    }
}
