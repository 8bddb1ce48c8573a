using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// A million events through every kind of fault, ending with every event accounted for. Category "Soak": `.ci/run`
    /// runs it with the rest; filter it out locally with <c>--filter TestCategory!=Soak</c>.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public sealed class SoakTests
    {
        [TestMethod]
        [TestCategory("Soak")]
        public async Task OneMillionEvents_RandomFaults_EveryEventDeliveredAndDuplicatesExactlyTheAmbiguousCalls()
        {
            await using var standIn = await FirehoseStandIn.StartAsync(seed: 20261125);
            standIn.CreateStream("app-logs");
            standIn.Faults.ThrottleCallRate = 0.10;
            standIn.Faults.FailedRecordRate = 0.10;
            standIn.Faults.DropConnectionRate = 0.03;
            standIn.Faults.DropAfterProcessingRate = 0.02; // the only source of duplicates
            standIn.Faults.InternalErrorRate = 0.02;
            const int total = 1_000_000;
            var target = StandInHarness.Target(standIn);
            var recorder = AmbiguousCallRecorder.Attach(target);
            target.MaxQueueEvents = total; // nothing may be dropped by the bounds: this test accounts for every event
            target.MaxQueueBytes = 1024L * 1024 * 1024;

            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Soak");
                Parallel.For(0, 4, part =>
                {
                    for (int i = part; i < total; i += 4)
                    {
                        if (i == total / 2)
                            standIn.Faults.BeginOutage(TimeSpan.FromSeconds(2));
                        logger.Info("event {Seq}", i);
                    }
                });
                factory.Flush(TimeSpan.FromMinutes(3));
            }

            StandInHarness.AssertAllDeliveredDuplicatesOnlyFromLostAnswers(standIn, "app-logs", total, recorder());
            Assert.IsTrue(standIn.RecordsStoredThenDropped > 0, "the ambiguous fault happened");
            Assert.AreEqual(0, target.Statistics.QueueDroppedEvents + target.Statistics.DroppedEvents + target.Statistics.UndeliveredAtClose);
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
        }
    }
}
