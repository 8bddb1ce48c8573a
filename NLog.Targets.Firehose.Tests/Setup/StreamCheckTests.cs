using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>checkStreamAtStartup: DescribeDeliveryStream in the background, findings in the InternalLogger.</summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public class StreamCheckTests
    {
        private static async Task<string> RunCheckAsync(FirehoseStandIn standIn, string expected, string stream = "app-logs")
        {
            using var log = new InternalLogCapture(LogLevel.Info);
            var target = StandInHarness.Target(standIn, stream);
            target.CheckStreamAtStartup = true;
            using (var factory = Harness.Factory(target))
            {
                var check = target.StreamCheck;
                Assert.IsNotNull(check, "no check started");
                await check!.WaitAsync(TimeSpan.FromSeconds(15)); // TimeoutException when the check does not finish
            }
            StringAssert.Contains(log.Text, expected);
            return log.Text;
        }

        [TestMethod]
        public async Task ActiveDirectPutStream_ReportedAtInfo_NoWarning()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");

            string text = await RunCheckAsync(standIn, "is ACTIVE and DirectPut");

            StringAssert.Contains(text, "delivery stream 'app-logs' (us-east-1) is ACTIVE and DirectPut");
            Assert.IsFalse(text.Contains(" Warn ", StringComparison.Ordinal), text);
            Assert.AreEqual(1, standIn.DescribeCalls);
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
        }

        [TestMethod]
        public async Task MissingStream_Warns()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();

            string text = await RunCheckAsync(standIn, "does not exist", "no-such-stream");

            StringAssert.Contains(text, "delivery stream 'no-such-stream' does not exist in us-east-1");
        }

        [TestMethod]
        [DataRow("CREATING", "DirectPut", "is CREATING, not ACTIVE")]
        [DataRow("ACTIVE", "KinesisStreamAsSource", "has source KinesisStreamAsSource, not DirectPut")]
        public async Task StreamNotUsable_Warns(string status, string type, string expected)
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.SetStreamState("app-logs", status, type);

            string text = await RunCheckAsync(standIn, expected);

            StringAssert.Contains(text, expected);
        }

        [TestMethod]
        public async Task NotAllowedToDescribe_WarnsThatTheCheckNeedsThePermission_LoggingGoesOn()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.DescribeError = (400, "AccessDeniedException");

            string text = await RunCheckAsync(standIn, "could not check");

            StringAssert.Contains(text, "could not check delivery stream 'app-logs' (us-east-1) at start-up: AccessDeniedException");
            StringAssert.Contains(text, "firehose:DescribeDeliveryStream");
        }

        [TestMethod]
        public async Task SlowCheck_DoesNotHoldUpStartOrLogging()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.DescribeDelay = TimeSpan.FromMinutes(10); // answered only if the test outlives it; closing the target cancels the call
            var target = StandInHarness.Target(standIn);
            target.CheckStreamAtStartup = true;
            using (var factory = Harness.Factory(target))
            {
                factory.GetLogger("Check").Info("event");
                factory.Flush();

                Assert.AreEqual(1, standIn.Records("app-logs").Count, "delivered while the check still waits for its answer");
                await standIn.FirstDescribe.WaitAsync(TimeSpan.FromSeconds(60)); // the check runs in the background: wait until it asked
                Assert.AreEqual(1, standIn.DescribeCalls);
                Assert.IsFalse(target.StreamCheck!.IsCompleted);
            }
        }

        [TestMethod]
        public async Task Off_ByDefault()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            using (var factory = Harness.Factory(StandInHarness.Target(standIn)))
            {
                factory.GetLogger("Check").Info("event");
                factory.Flush();
            }

            Assert.AreEqual(0, standIn.DescribeCalls);
        }
    }
}
