using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Delivery;
using NLog.Targets.Firehose.Internal.Diagnostics;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>Each delivery stream's state has one home: its health, its bucket and its learned rate, apart from every other stream's.</summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class DeliveryStreamsTests
    {
        private static readonly long Second = Stopwatch.Frequency;

        [TestMethod]
        public void BreakerCapAndLearner_KeepEachStreamsStateInItsOneObject_StreamsApart()
        {
            long now = Second * 100;
            var streams = new DeliveryStreams();
            var breaker = new CircuitBreaker(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), streams);
            var cap = new RateCap(0, 0, () => now, streams);
            var learner = new QuotaLearner(cap, new TargetStatistics(), "test", () => now, streams);

            breaker.Broken("broken", "ResourceNotFoundException", DateTime.UtcNow);
            for (int i = 0; i < 10; i++, now += Second / 10)
                learner.Observe("throttled", 500, 500, 500 * 200, 0);
            for (int i = 0; i < 8; i++)
                learner.Observe("throttled", 500, 0, 0, 500); // a spent quota: a rate is learned
            cap.Allowance("throttled");

            CollectionAssert.AreEquivalent(new[] { "broken", "throttled" }, streams.All.Select(s => s.Name).ToArray());
            var broken = streams.Of("broken");
            Assert.IsTrue(broken.Health is { Broken: true, LastCode: "ResourceNotFoundException" });
            Assert.IsNull(broken.Rate, "no call of it was answered");
            Assert.IsNull(broken.Bucket);
            var throttled = streams.Of("throttled");
            Assert.IsNull(throttled.Health, "never failed as a whole");
            Assert.AreEqual(0.95 * 5_000, throttled.Rate!.Records, 0.001);
            Assert.IsNotNull(throttled.Bucket, "the learned rate is spent from its bucket");
            Assert.AreSame(throttled, streams.Of("throttled"));
            Assert.AreEqual(throttled.Rate.Records, learner.Rates.Single().Value.Records, "the gauge reads the stream's own rate");
        }

        [TestMethod]
        public void Of_FromManyThreads_OneObjectPerName()
        {
            var streams = new DeliveryStreams();
            var seen = new System.Collections.Concurrent.ConcurrentBag<DeliveryStream>();

            Parallel.For(0, 2_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => seen.Add(streams.Of("s" + (i % 7))));

            Assert.AreEqual(7, streams.All.Length);
            Assert.AreEqual(7, seen.Distinct().Count(), "every caller got the one object of its name");
            Assert.IsTrue(streams.TryGet("s3", out var s3) && ReferenceEquals(s3, streams.All.Single(s => s.Name == "s3")));
            Assert.IsFalse(streams.TryGet("never", out _));
        }
    }
}
