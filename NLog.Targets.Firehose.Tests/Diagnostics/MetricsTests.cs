using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Delivery;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;
using OpenTelemetry.Metrics;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>The meter <c>NLog.Targets.Firehose</c>, read with a <see cref="System.Diagnostics.Metrics.MeterListener"/> as dotnet-counters and OpenTelemetry do.</summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public sealed class MetricsTests
    {
        [TestMethod]
        public async Task Meter_UnderFaults_CountsMatchWhatTheStandInSaw()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.FailedRecordRate = 0.3;
            standIn.Faults.ThrottleCallRate = 0.2;
            string name = "fh-metrics-" + Guid.NewGuid().ToString("N");
            var target = StandInHarness.Target(standIn);
            target.Name = name;
            using var measured = new TargetMeasurements(name);

            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Metrics");
                for (int i = 0; i < 2000; i++)
                    logger.Info("event {Seq}", i);
                logger.Info(new string('x', 2 * FirehoseLimits.MaxRecordBytes)); // truncated
                factory.Flush();
                measured.ObserveGauges();
            }

            double Sum(string instrument) => measured.Sum(instrument);
            Assert.AreEqual(2001, Sum("nlog.firehose.events.sent"));
            Assert.AreEqual(1, Sum("nlog.firehose.events.truncated"));
            Assert.AreEqual(0, Sum("nlog.firehose.events.failed") + Sum("nlog.firehose.events.dropped"));
            Assert.AreEqual(standIn.Requests, Sum("nlog.firehose.requests"), "one request per call the stand-in saw");
            Assert.IsTrue(Sum("nlog.firehose.retries") > 0 && Sum("nlog.firehose.throttles") > 0, "faults were counted");
            long storedBytes = standIn.Records("app-logs").Sum(r => (long)r.Length);
            Assert.AreEqual(storedBytes, Sum("nlog.firehose.bytes.sent"));
            Assert.AreEqual(standIn.Records("app-logs").Sum(r => RecordPacker.BilledUnits(r.Length)), Sum("nlog.firehose.billed_units"));
            Assert.AreEqual(standIn.Requests, measured.Count("nlog.firehose.request.duration"));
            Assert.AreEqual(standIn.Requests, measured.Count("nlog.firehose.records_per_call"));
            Assert.IsTrue(measured.Count("nlog.firehose.queue.depth") > 0, "the queue-depth gauge was observed");
        }

        [TestMethod]
        public async Task OpenTelemetry_AddMeter_ExportsTheTargetsCountersAndGauge()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            string name = "fh-otel-" + Guid.NewGuid().ToString("N");
            var target = StandInHarness.Target(standIn);
            target.Name = name;
            var exported = new List<MetricSnapshot>();
            using (var provider = OpenTelemetry.Sdk.CreateMeterProviderBuilder()
                .AddMeter("NLog.Targets.Firehose")
                .AddInMemoryExporter(exported)
                .Build()!)
            {
                using (var factory = Harness.Factory(target))
                {
                    var logger = factory.GetLogger("Otel");
                    for (int i = 0; i < 300; i++)
                        logger.Info("event {Seq}", i);
                    factory.Flush();
                    provider.ForceFlush();
                }
            }

            // Cumulative temporality: the last export of each instrument holds the totals.
            double Sum(string metric)
            {
                double sum = 0;
                var last = exported.LastOrDefault(m => m.Name == metric);
                if (last != null)
                {
                    foreach (var point in last.MetricPoints)
                    {
                        foreach (var tag in point.Tags)
                        {
                            if (tag.Key == "target" && (string?)tag.Value == name)
                                sum += last.MetricType == MetricType.LongSum ? point.GetSumLong() : point.GetSumDouble();
                        }
                    }
                }
                return sum;
            }

            Assert.AreEqual(300, Sum("nlog.firehose.events.sent"), string.Join(", ", exported.Select(m => m.Name).Distinct()));
            Assert.AreEqual(standIn.Calls.Count, Sum("nlog.firehose.requests"));
            Assert.IsTrue(exported.Any(m => m.Name == "nlog.firehose.queue.depth"), "the gauge is exported");
            Assert.IsTrue(exported.Any(m => m.Name == "nlog.firehose.request.duration" && m.MetricType == MetricType.Histogram));
        }
    }
}
