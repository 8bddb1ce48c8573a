using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Delivery;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    public sealed class RateCapTests
    {
        private static readonly HashSet<string> None = new HashSet<string>();

        [TestMethod]
        [TestCategory(TestCategories.Unit)]
        public void Records_SpentBeyondTheRoom_StreamWaitsUntilTheRateRefillsIt()
        {
            long now = 1_000_000;
            var cap = new RateCap(100, 0, () => now); // a tenth of a second deep: 10 events
            Assert.AreEqual(10, cap.Allowance("s").Records, "a stream never sent to starts with the depth, not more");

            cap.Spend("s", 10, 1000);
            var waiting = cap.Waiting(None, out long due);
            CollectionAssert.AreEqual(new[] { "s" }, waiting.ToArray());
            Assert.AreEqual(now + Stopwatch.Frequency / 10, due, 1.0, "until the bucket is full again: 0.1 s at 100/s");

            now += Stopwatch.Frequency / 20; // 0.05 s: 5 events of room, not yet a call's worth
            Assert.AreEqual(1, cap.Waiting(None, out _).Count, "a capped stream sends a tenth of a second's worth per call, not an event at a time");
            now += Stopwatch.Frequency / 20;
            Assert.AreEqual(0, cap.Waiting(None, out due).Count);
            Assert.AreEqual(long.MaxValue, due);
            Assert.AreEqual(10, cap.Allowance("s").Records);
            Assert.AreEqual(int.MaxValue, cap.Allowance("s").Bytes, "no byte cap");

            now += Stopwatch.Frequency * 10; // long idle: the room is the depth, not more
            Assert.AreEqual(10, cap.Allowance("s").Records);
        }

        [TestMethod]
        [TestCategory(TestCategories.Unit)]
        public void Bytes_ARecordLargerThanTheRoomGoes_ThenTheStreamPaysTheDebt()
        {
            long now = 1_000_000;
            var cap = new RateCap(0, 1000, () => now); // 1,000 bytes/s: 100 bytes deep
            cap.Spend("s", 1, 10_000); // one 10,000-byte record: 9,900 bytes of debt, then the 100 bytes of depth
            cap.Waiting(None, out long due);
            Assert.AreEqual(now + (long)(10.0 * Stopwatch.Frequency), due, Stopwatch.Frequency / 1000.0);
            now = due;
            Assert.AreEqual(0, cap.Waiting(None, out _).Count);
            Assert.AreEqual(FirehoseLimits.MaxRecordBytes, cap.Allowance("s").Bytes, "any room lets one record of any size go");
        }

        [TestMethod]
        [TestCategory(TestCategories.Unit)]
        public void Off_WhenBothAreZero()
        {
            Assert.IsFalse(new RateCap(0, 0).IsOn);
            Assert.IsTrue(new RateCap(1, 0).IsOn);
        }

        [TestMethod]
        [TestCategory(TestCategories.Http)]
        public async Task Target_CapBelowTheStreamQuota_NothingRefusedEveryEventOnce()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            // The stand-in counts by arrival second: on a busy machine calls sent in one second may arrive in the next, so
            // the cap keeps half the quota free (a second's worth of late arrivals fits).
            standIn.Faults.QuotaRecordsPerSecond = 2_000;
            var target = StandInHarness.Target(standIn);
            target.MaxRecordsPerSecond = 1_000; // this instance's share of the stream's quota
            const int total = 4_000;
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Cap");
                for (int i = 0; i < total; i++)
                    logger.Info("event {Seq}", i);
                factory.Flush(System.TimeSpan.FromSeconds(60));
            }

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), total));
            Assert.AreEqual(0, standIn.QuotaRefusedRecords, "capped below the quota, nothing was refused");
        }
    }
}
