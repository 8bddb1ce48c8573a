using System;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>Outages, bounded memory and persistent errors, against the loopback stand-in.</summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public class FirehoseOutageTests
    {
        [TestMethod]
        public async Task Outage_MoreThanTheBufferHolds_MemoryBoundedDebugDroppedFirstCountedAndSummarised()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.BeginOutage(TimeSpan.FromMinutes(10));
            var target = StandInHarness.Target(standIn);
            const long bound = 2 * 1024 * 1024;
            target.MaxQueueBytes = bound;
            target.RetryTimeLimitSeconds = 1;
            target.MaxPauseSeconds = 1;
            target.Seams.PauseBase = TimeSpan.FromMilliseconds(100);
            string padding = new string('p', 500);
            const int total = 10_000;
            // Each event is about 1.2 KB; the 500 Warn events (600 KB) fit in the half of the bound that calls in flight
            // cannot hold, so the policy can always keep them.
            const int WarnEvery = 20;
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Outage");
                for (int i = 0; i < total; i++)
                {
                    if (i % WarnEvery == 0)
                        logger.Warn("event {Seq} {Padding}", i, padding);
                    else
                        logger.Debug("event {Seq} {Padding}", i, padding);
                }
                Assert.IsTrue(System.Threading.SpinWait.SpinUntil(() => target.Statistics.HandedOverEvents == total, TimeSpan.FromSeconds(30)), "NLog handed every event over");
                standIn.Faults.OutageUntilUtc = DateTime.MinValue;
                factory.Flush(TimeSpan.FromSeconds(60));
            }

            Assert.IsTrue(target.BufferPeakBytes <= bound, $"peak {target.BufferPeakBytes} bytes");
            var records = standIn.Records("app-logs").Select(r => JsonDocument.Parse(r).RootElement).ToList();
            var summary = records.Single(r => r.TryGetProperty("droppedEvents", out _));
            var events = records.Where(r => r.TryGetProperty("Seq", out _)).ToList();
            int warns = events.Count(r => r.GetProperty("level").GetString() == "WARN");
            int debugs = events.Count(r => r.GetProperty("level").GetString() == "DEBUG");
            string counts = $"delivered {target.Statistics.DeliveredEvents}, dropped {target.Statistics.QueueDroppedEvents} ({string.Join(",", summary.EnumerateObject().Where(p => p.Name.StartsWith("dropped", StringComparison.Ordinal)).Select(p => p.Name + "=" + p.Value))}), undelivered at close {target.Statistics.UndeliveredAtClose}, debug {debugs}, records {records.Count}";
            Assert.AreEqual(total / WarnEvery, warns, "no Warn event was dropped; " + counts);
            Assert.IsTrue(debugs < total - total / WarnEvery, "Debug events were dropped to stay within the bound");
            Assert.AreEqual(total - total / WarnEvery - debugs, summary.GetProperty("droppedDebug").GetInt64(), "the summary counts exactly the missing Debug events");
            Assert.AreEqual(0, summary.GetProperty("droppedWarn").GetInt64());
            Assert.AreEqual("WARN", summary.GetProperty("level").GetString());
            Assert.AreEqual(events.Count, events.Select(r => r.GetProperty("Seq").GetInt32()).Distinct().Count(), "no duplicates");
            Assert.AreEqual(target.Statistics.QueueDroppedEvents, summary.GetProperty("droppedEvents").GetInt64());
            Assert.AreEqual(0, target.Statistics.UndeliveredAtClose);
        }

        [TestMethod]
        public async Task MissingStream_CreatedLater_KeptEventsFlowWithoutHelpAndCallsPausedMeanwhile()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            var target = StandInHarness.Target(standIn);
            target.Seams.PauseBase = TimeSpan.FromMilliseconds(200);
            using var capture = new InternalLogCapture(LogLevel.Info);
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Later");
                for (int i = 0; i < 100; i++)
                    logger.Info("event {Seq}", i);
                factory.Flush();
                Assert.AreEqual(0, standIn.Records("app-logs").Count);
                long callsWhileMissing = standIn.Requests;

                standIn.CreateStream("app-logs");
                using var delivered = new System.Threading.ManualResetEventSlim();
                standIn.RequestReceived += _ => delivered.Set();
                Assert.IsTrue(delivered.Wait(TimeSpan.FromSeconds(30)), "a call was made after the pause");
                factory.Flush();
                Assert.IsTrue(callsWhileMissing <= 2, $"the paused stream was not hammered: {callsWhileMissing} calls");
            }

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 100));
            StringAssert.Contains(capture.Text, "pausing its calls");
            StringAssert.Contains(capture.Text, "accepts records again");
        }

        [TestMethod]
        public async Task Lambda_FlushAtEndOfEachInvocation_DeliversThatInvocationsEvents()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.ResponseDelay = TimeSpan.FromMilliseconds(30);
            using var factory = Harness.Factory(StandInHarness.Target(standIn));
            var logger = factory.GetLogger("Handler");

            for (int invocation = 1; invocation <= 3; invocation++)
            {
                for (int i = 0; i < 50; i++)
                    logger.Info("invocation {Invocation} event {Seq}", invocation, (invocation - 1) * 50 + i);
                factory.Flush(); // the pattern: LogManager.Flush() before the handler returns
                Assert.AreEqual(invocation * 50, standIn.Records("app-logs").Count, $"invocation {invocation}");
            }
        }
    }
}
