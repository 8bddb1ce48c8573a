using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public sealed class FluentSetupTests
    {
        [TestMethod]
        public async Task WriteToKinesisFirehose_FromSetup_DeliversWithTheGivenOptions()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            using var factory = new LogFactory();
            factory.Setup().LoadConfiguration(c => c.ForLogger(LogLevel.Info).WriteToKinesisFirehose("app-logs", region: "us-east-1",
                configure: t => t.ServiceUrl = standIn.Url.ToString()));

            var logger = factory.GetLogger("Fluent");
            for (int i = 0; i < 10; i++)
                logger.Info("event {Seq}", i);
            logger.Debug("below the rule's level {Seq}", 99);
            factory.Flush();

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 10));
            var target = factory.Configuration!.AllTargets[0] as FirehoseTarget;
            Assert.IsNotNull(target);
            Assert.AreEqual("us-east-1", target.Endpoint!.SigningRegion);
        }
    }
}
