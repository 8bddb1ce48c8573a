using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Config;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public class FirehoseShutdownTests
    {
        [TestMethod]
        public async Task Shutdown_QueuedEvents_AllDeliveredBeforeItReturns()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.ResponseDelay = TimeSpan.FromMilliseconds(20);
            var factory = Harness.Factory(StandInHarness.Target(standIn));
            var logger = factory.GetLogger("Shutdown");

            for (int i = 0; i < 20_000; i++)
                logger.Info("event {Seq}", i);
            factory.Shutdown();

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 20_000));
        }

        [TestMethod]
        public async Task Flush_QueuedEvents_AllDeliveredBeforeItReturns()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            using var factory = Harness.Factory(StandInHarness.Target(standIn));
            var logger = factory.GetLogger("Flush");

            for (int i = 0; i < 3_000; i++)
                logger.Info("event {Seq}", i);
            factory.Flush();

            Assert.AreEqual(3_000, standIn.Records("app-logs").Count);
        }

        [TestMethod]
        public async Task Dispose_WithoutFlush_BufferedEventsDeliveredWithinTheCloseDrain()
        {
            // What NLog does on Linux when the process exits without LogManager.Shutdown(): it closes targets without
            // flushing. The target has taken the events into its own buffer and drains it (for up to 5 s) at close.
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.ResponseDelay = TimeSpan.FromMilliseconds(50);
            using var firstRequest = new ManualResetEventSlim();
            standIn.RequestReceived += _ => firstRequest.Set();
            var target = StandInHarness.Target(standIn);
            target.MaxConcurrentRequests = 1;
            var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Exit");

            for (int i = 0; i < 5_000; i++)
                logger.Info("event {Seq}", i);
            Assert.IsTrue(firstRequest.Wait(TimeSpan.FromSeconds(30)), "the first call started");
            Assert.IsTrue(SpinWait.SpinUntil(() => target.Statistics.HandedOverEvents == 5_000, TimeSpan.FromSeconds(30)), "NLog handed every event over");
            factory.Dispose();

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 5_000));
            Assert.AreEqual(0, target.Statistics.UndeliveredAtClose);
        }

        [TestMethod]
        public async Task Shutdown_StreamMissing_ReturnsAndReportsUndeliveredCountByLevel()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            var target = StandInHarness.Target(standIn);
            using var capture = new InternalLogCapture(LogLevel.Error);
            var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Down");

            for (int i = 0; i < 10; i++)
                logger.Info("event {Seq}", i);
            logger.Error("event {Seq}", 10);
            factory.Shutdown();

            Assert.AreEqual(11, target.Statistics.UndeliveredAtClose);
            StringAssert.Contains(capture.Text, "closing with 11 events not delivered (Trace 0, Debug 0, Info 10, Warn 0, Error 1, Fatal 0)");
        }

        [TestMethod]
        public async Task Reconfigure_SameTarget_RecreatesClientAndKeepsDelivering()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            var target = StandInHarness.Target(standIn);
            using var factory = Harness.Factory(target);
            factory.GetLogger("Reconfig").Info("event {Seq}", 0);
            factory.Flush();

            var config = new LoggingConfiguration(factory);
            config.AddRuleForAllLevels(target);
            factory.Configuration = config;
            factory.GetLogger("Reconfig").Info("event {Seq}", 1);
            factory.Flush();

            Assert.AreEqual(500, target.MaxRecordsPerCall);
            Assert.AreEqual(1_000, target.BatchSize, "the target never rewrites NLog's options");
            Assert.AreEqual(2_000, target.QueueLimit, "the target never rewrites NLog's options");
            Assert.AreEqual(200_000, target.MaxQueueEvents);
            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 2));
        }
    }
}
