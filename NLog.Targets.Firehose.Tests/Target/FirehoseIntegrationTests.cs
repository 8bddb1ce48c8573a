using System;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>The real client over real HTTP against the loopback stand-in.</summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public class FirehoseIntegrationTests
    {
        [TestMethod]
        public async Task Send_ToStandIn_SignedWellFormedAndWithinLimits()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.ExpectedRegion = "us-east-1";
            var target = StandInHarness.Target(standIn);
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Integration");
                for (int i = 0; i < 1234; i++)
                    logger.Info("event {Seq} of {Total}", i, 1234);
                factory.Flush();
            }

            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 1234));
            Assert.IsTrue(standIn.Calls.All(c => c.Records <= 500 && c.Status == 200));
            Assert.IsTrue(standIn.Records("app-logs").All(r => r[^1] == (byte)'\n' && r.Count(b => b == (byte)'\n') == 1));
            StringAssert.StartsWith(standIn.Calls.First().UserAgent, "NLog.Targets.Firehose/");
            Assert.AreEqual(FirehoseStandIn.DefaultAccessKey, standIn.Calls.First().AccessKey);
        }

        [TestMethod]
        public async Task Send_MaximumSizeRecords_EveryCallWithinServiceLimits()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            var target = StandInHarness.Target(standIn);
            target.Layout = "${message}";
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Big");
                string exactlyMax = new string('a', FirehoseStandIn.MaxRecordBytes - 1); // + "\n" = the limit
                for (int i = 0; i < 9; i++)
                    logger.Info(exactlyMax);
                logger.Info(new string('b', 3 * FirehoseStandIn.MaxRecordBytes)); // truncated, never fails the call
                factory.Flush();
                Assert.AreEqual(1, target.Statistics.TruncatedEvents);
            }

            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
            Assert.AreEqual(10, standIn.Records("app-logs").Count);
            Assert.IsTrue(standIn.Calls.All(c => c.Status == 200 && c.DataBytes <= FirehoseStandIn.MaxBytesPerCall));
        }

        [TestMethod]
        public async Task Send_WithInjectedFaults_100000EventsArriveExactlyOnce()
        {
            await using var standIn = await FirehoseStandIn.StartAsync(seed: 2026);
            standIn.CreateStream("app-logs");
            StandInHarness.InjectFaultMix(standIn);
            var target = StandInHarness.Target(standIn);
            target.RetryBackoffMilliseconds = 10;
            target.RetryBackoffMaxMilliseconds = 1000;
            target.MaxQueueEvents = 200_000;
            const int total = 100_000;
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Faults");
                for (int i = 0; i < total; i++)
                {
                    if (i == total / 3)
                        standIn.Faults.BeginOutage(TimeSpan.FromSeconds(3));
                    logger.Info("event {Seq}", i);
                }
                factory.Flush(TimeSpan.FromMinutes(3));
            }

            var counts = StandInHarness.SequenceCounts(standIn, "app-logs");
            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(counts, total));
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
            Assert.IsTrue(standIn.Calls.Any(c => c.Outcome.StartsWith("partial", StringComparison.Ordinal)), "per-record failures were injected");
            Assert.IsTrue(standIn.Requests > standIn.Calls.Count, "throttled, dropped and outage calls were injected");
        }

        [TestMethod]
        public async Task Send_MissingStream_ClearErrorNoRetryLoopFlushReturnsEventsKeptThenReportedAtClose()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            var target = StandInHarness.Target(standIn, stream: "does-not-exist");
            target.Layout = "${message}";
            target.Seams.PauseBase = TimeSpan.FromMinutes(5); // no second attempt before the close, however slow the machine
            using var capture = new InternalLogCapture(LogLevel.Error);
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Missing");
                for (int i = 0; i < 1000; i++)
                    logger.Info("e" + i);
                Harness.FlushCompletes(factory, TimeSpan.FromSeconds(60)); // the stream is paused: the flush must not wait for it
                Assert.AreEqual(1000, target.BufferSize.Records, "the events are kept while the stream is missing");
            }

            Assert.IsTrue(standIn.Calls.All(c => c.Outcome == "not-found"));
            Assert.IsTrue(standIn.Calls.Sum(c => c.Records) <= 1000, $"no retry loop: each event was tried at most once before the pause; saw {standIn.Calls.Count} calls");
            StringAssert.Contains(capture.Text, "ResourceNotFoundException");
            StringAssert.Contains(capture.Text, "'does-not-exist'");
            StringAssert.Contains(capture.Text, "region us-east-1");
            StringAssert.Contains(capture.Text, "closing with 1000 events not delivered");
            Assert.AreEqual(1000, target.Statistics.UndeliveredAtClose);
        }

        [TestMethod]
        public async Task Send_ClientClockSkewed_CorrectsFromDateHeaderAndDelivers()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.ClockOffset = TimeSpan.FromMinutes(30);
            var target = StandInHarness.Target(standIn);
            using var capture = new InternalLogCapture(LogLevel.Warn);
            using (var factory = Harness.Factory(target))
            {
                factory.GetLogger("Skew").Info("event {Seq}", 0);
                factory.Flush();
                factory.GetLogger("Skew").Info("event {Seq}", 1);
                factory.Flush();
            }

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 2));
            Assert.AreEqual(1, standIn.Violations.Count(v => v.StartsWith("Signature expired", StringComparison.Ordinal)), "only the first request was signed with the skewed clock");
            StringAssert.Contains(capture.Text, "correcting the signing clock");
        }

        [TestMethod]
        public async Task Send_UnknownAccessKey_NotRetriedAfterOneRefreshAndNoSecretLogged()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            var target = StandInHarness.Target(standIn);
            target.Seams.PauseBase = TimeSpan.FromMinutes(5); // no second attempt before the close, however slow the machine
            string? previousKey = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000");
            try
            {
                using var capture = new InternalLogCapture(LogLevel.Trace);
                using (var factory = Harness.Factory(target))
                {
                    factory.GetLogger("Creds").Info("x");
                    factory.Flush();
                }
                StringAssert.Contains(capture.Text, "UnrecognizedClientException");
                Assert.IsFalse(capture.Text.Contains(FirehoseStandIn.DefaultSecretKey, StringComparison.Ordinal), "no secret in the internal log");
                Assert.IsFalse(capture.Text.Contains("Signature=", StringComparison.Ordinal), "no signature in the internal log");
            }
            finally
            {
                Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", previousKey);
            }

            Assert.AreEqual(2, standIn.Requests, "the first attempt and one after resolving credentials again");
            Assert.AreEqual(1, target.Statistics.UndeliveredAtClose);
        }

        [TestMethod]
        public async Task NlogConfigDefaults_200000EventsUnderFaultsAndOutage_ShutdownDeliversAllExactlyOnce()
        {
            await using var standIn = await FirehoseStandIn.StartAsync(seed: 424242);
            standIn.CreateStream("app-logs");
            StandInHarness.InjectFaultMix(standIn);
            const int total = 200_000;
            var factory = FactoryFromXml(standIn, string.Empty);
            var logger = factory.GetLogger("Acceptance");
            for (int i = 0; i < total; i++)
            {
                if (i == total / 3)
                    standIn.Faults.BeginOutage(TimeSpan.FromSeconds(3));
                logger.Info("event {Seq}", i);
            }
            factory.Shutdown();

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), total));
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
            Assert.IsTrue(standIn.Calls.All(c => c.Records <= 500 && c.DataBytes <= FirehoseStandIn.MaxBytesPerCall));
        }

        [TestMethod]
        public async Task NlogConfig_UnderFaults_DeliversExactlyOnce()
        {
            await using var standIn = await FirehoseStandIn.StartAsync(seed: 1717);
            standIn.CreateStream("app-logs");
            StandInHarness.InjectFaultMix(standIn);
            const int total = 20_000;
            var factory = FactoryFromXml(standIn, "maxConcurrentRequests='4'");
            var logger = factory.GetLogger("FromXml");
            for (int i = 0; i < total; i++)
                logger.Info("event {Seq}", i);
            factory.Shutdown();

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), total));
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
        }

        /// <summary>A factory configured from nlog.config XML: the target with defaults into the stand-in's app-logs, plus <paramref name="attributes"/>.</summary>
        private static LogFactory FactoryFromXml(FirehoseStandIn standIn, string attributes)
        {
            var factory = new LogFactory();
            factory.Setup().LoadConfigurationFromXml($@"<nlog throwConfigExceptions='true'>
  <extensions><add assembly='NLog.Targets.Firehose'/></extensions>
  <targets><target type='KinesisFirehose' name='fh' deliveryStreamName='app-logs' region='us-east-1' serviceUrl='{standIn.Url}' {attributes} /></targets>
  <rules><logger name='*' writeTo='fh' /></rules>
</nlog>");
            return factory;
        }
    }
}
