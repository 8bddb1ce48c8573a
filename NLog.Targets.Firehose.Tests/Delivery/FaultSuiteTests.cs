using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// One fault at a time on the loopback stand-in, counted exactly: every event delivered, duplicates only from calls
    /// whose outcome the client could not know (compared as sets of sequence numbers), nothing dropped. Faults are at least
    /// 5 times the 1 s request timeout, so they are told apart from a slow machine.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public sealed class FaultSuiteTests
    {
        [TestMethod]
        [DataRow("throttled calls")]
        [DataRow("per-record failures")]
        [DataRow("5xx")]
        [DataRow("slow responses before processing")]
        [DataRow("slow responses after processing")]
        [DataRow("dropped connections before processing")]
        [DataRow("dropped connections after processing")]
        [DataRow("long outage")]
        [DataRow("stream quota")]
        public async Task Fault_EveryEventDeliveredDuplicatesExactlyTheAmbiguousCallsNothingDropped(string fault)
        {
            await using var standIn = await FirehoseStandIn.StartAsync(seed: fault.Sum(c => c));
            standIn.CreateStream("app-logs");
            var target = StandInHarness.Target(standIn);
            var recorder = AmbiguousCallRecorder.Attach(target);
            target.RequestTimeoutSeconds = 1;
            target.RetryTimeLimitSeconds = 1;
            target.MaxPauseSeconds = 1;
            target.Seams.PauseBase = TimeSpan.FromMilliseconds(100);
            const int total = 20_000;
            var faults = standIn.Faults;
            switch (fault)
            {
                case "throttled calls": faults.ThrottleCallRate = 0.5; break;
                case "per-record failures": faults.FailedRecordRate = 0.5; break;
                case "5xx": faults.InternalErrorRate = 0.3; break;
                case "slow responses before processing": faults.ResponseDelay = TimeSpan.FromSeconds(5); LiftTheDelayAfterTwentyCalls(); break;
                case "slow responses after processing": faults.SlowAfterProcessingRate = 0.2; faults.SlowAfterProcessingDelay = TimeSpan.FromSeconds(5); break;
                case "dropped connections before processing": faults.DropConnectionRate = 0.3; break;
                case "dropped connections after processing": faults.DropAfterProcessingRate = 0.2; break;
                case "long outage": faults.BeginOutage(TimeSpan.FromSeconds(4)); break;
                case "stream quota": faults.QuotaRecordsPerSecond = 5_000; break; // 20,000 events: at least 4 s at the quota
                default: Assert.Fail("unknown fault " + fault); break;
            }

            void LiftTheDelayAfterTwentyCalls()
            {
                // Every call times out until the delay is lifted: lift it after a few attempts, so the test ends.
                standIn.RequestReceived += n => { if (n >= 20) faults.ResponseDelay = TimeSpan.Zero; };
            }

            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Faults");
                for (int i = 0; i < total; i++)
                    logger.Info("event {Seq}", i);
                factory.Flush(TimeSpan.FromSeconds(60));
            }

            StandInHarness.AssertAllDeliveredDuplicatesOnlyFromLostAnswers(standIn, "app-logs", total, recorder(), fault + ": ");
            Assert.AreEqual(total, target.Statistics.DeliveredEvents, $"{fault}: delivered as the target counts it");
            Assert.AreEqual(0, target.Statistics.QueueDroppedEvents + target.Statistics.DroppedEvents + target.Statistics.UndeliveredAtClose + target.Statistics.RejectedEvents, $"{fault}: nothing dropped");
            if (fault.Contains("after processing", StringComparison.Ordinal))
                Assert.IsTrue(standIn.RecordsStoredThenDropped > 0, $"{fault}: the ambiguous fault happened");
            if (fault == "stream quota")
                Assert.IsTrue(standIn.QuotaRefusedRecords > 0, $"{fault}: records over the quota were refused");
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
        }
    }
}
