using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public class FirehoseTargetNonRetryableTests
    {
        [TestMethod]
        [DataRow(400, "ResourceNotFoundException")]
        [DataRow(400, "InvalidArgumentException")]
        [DataRow(400, "AccessDeniedException")]
        [DataRow(400, "InvalidKMSResourceException")]
        [DataRow(403, "MissingAuthenticationTokenException")]
        [DataRow(0, "NoCredentials")]
        public void Write_NonRetryableError_NotRetriedStreamPausedEventsKeptFlushReturns(int status, string code)
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => throw new FirehoseServiceException(status, code, "details from service", "req-9");
            var target = Harness.Target(client, stream: "orders-stream");
            target.Region = "eu-west-3";
            target.Seams.PauseBase = TimeSpan.FromMinutes(5);
            target.MaxConcurrentRequests = 1;
            using var capture = new InternalLogCapture(LogLevel.Error);
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Permanent");

            for (int i = 0; i < 3; i++)
                logger.Info("e" + i);
            Harness.FlushCompletes(factory, TimeSpan.FromSeconds(60)); // the stream is paused: the flush must not wait for it

            Assert.AreEqual(1, client.Calls.Count, "a non-retryable error is not retried");
            Assert.AreEqual(3, target.BufferSize.Records, "the events are kept");
            StringAssert.Contains(capture.Text, "orders-stream");
            StringAssert.Contains(capture.Text, "eu-west-3");
            StringAssert.Contains(capture.Text, code);
            StringAssert.Contains(capture.Text, "pausing its calls for 300 s");
        }

        [TestMethod]
        public async Task FallbackGroup_PersistentErrorActionFail_LaterEventsGoToTheFallbackTakenOnesStillDelivered()
        {
            await using var standIn = await NLog.Targets.Firehose.StandIn.FirehoseStandIn.StartAsync();
            var target = StandInHarness.Target(standIn, stream: "orders-stream");
            target.PersistentErrorAction = PersistentErrorAction.Fail;
            target.Seams.PauseBase = TimeSpan.FromMilliseconds(300);
            var fallback = new NLog.Targets.MemoryTarget("fallback") { Layout = "${message}" };
            var group = new NLog.Targets.Wrappers.FallbackGroupTarget(target, fallback) { Name = "group", ReturnToFirstOnSuccess = true };
            using var capture = new InternalLogCapture(LogLevel.Warn);
            using (var factory = Harness.Factory(group))
            {
                var logger = factory.GetLogger("Fallback");
                logger.Info("taken before the error was known {Seq}", 0);
                factory.Flush(); // the call fails: ResourceNotFoundException, the stream pauses
                for (int i = 1; i <= 10; i++)
                    logger.Info("while the stream is missing {Seq}", i);
                factory.Flush();
                // NLog's flush can return between a failed hand-over task's completion and the continuation that hands its
                // events to the fallback (AsyncTaskTarget counts a completed task as done): wait for the fallback itself.
                SpinWait.SpinUntil(() => fallback.Logs.Count >= 10, TimeSpan.FromSeconds(30));

                CollectionAssert.AreEqual(Enumerable.Range(1, 10).Select(i => "while the stream is missing " + i).ToList(), fallback.Logs.ToList());
                StringAssert.Contains(capture.Text, "orders-stream");
                StringAssert.Contains(capture.Text, "us-east-1");
                StringAssert.Contains(capture.Text, "ResourceNotFoundException");

                standIn.CreateStream("orders-stream");
                using var delivered = new ManualResetEventSlim();
                standIn.RequestReceived += _ => delivered.Set();
                Assert.IsTrue(delivered.Wait(TimeSpan.FromSeconds(30)), "a call after the pause");
                factory.Flush();
                logger.Info("after the fix {Seq}", 11);
                factory.Flush();
            }

            var seqs = StandInHarness.SequenceCounts(standIn, "orders-stream").Keys.OrderBy(k => k).ToList();
            CollectionAssert.AreEqual(new[] { 0, 11 }, seqs, "the taken event was kept and sent; the fallback's events were not sent twice");
        }

        [TestMethod]
        public async Task Write_MissingStreamCreatedLater_KeptEventsFlowWithoutHelp()
        {
            var client = new RecordingClient();
            bool created = false;
            client.Respond = (call, records) => Volatile.Read(ref created)
                ? Task.FromResult(PutRecordBatchResult.AllAccepted(records.Length))
                : throw new FirehoseServiceException(400, "ResourceNotFoundException", "not found", null);
            var target = Harness.Target(client);
            target.Layout = "${message}";
            // The stream's first pause outlasts the look at the call count: with a 10 ms one, a busy machine could let it end
            // (and a second failing call go out) between Flush and that look. The kept events flow once it has ended.
            target.Seams.PauseBase = TimeSpan.FromSeconds(2);
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Later");

            logger.Info("kept");
            factory.Flush();
            Assert.AreEqual(1, client.Calls.Count);
            Volatile.Write(ref created, true);
            logger.Info("new");
            await client.WhenCalls(2).WaitAsync(TimeSpan.FromSeconds(30));
            factory.Flush();

            var delivered = client.Calls.Skip(1).SelectMany(c => c.Records).Select(r => System.Text.Encoding.UTF8.GetString(r)).ToArray();
            CollectionAssert.AreEquivalent(new[] { "kept\n", "new\n" }, delivered);
            Assert.AreEqual(2, target.Statistics.DeliveredEvents);
            Assert.AreEqual(0, target.BufferSize.Records);
        }

        [TestMethod]
        public void Write_InvalidRenderedStreamName_LeftOutCountedWithClearError()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);
            target.DeliveryStreamName = "${event-properties:Stream}";
            using var capture = new InternalLogCapture(LogLevel.Error);
            using var factory = Harness.Factory(target);

            factory.GetLogger("Names").Info("to {Stream}", "bad name!");
            factory.GetLogger("Names").Info("to {Stream}", "good-name");
            factory.Flush();

            Assert.AreEqual("good-name", client.Calls.Single().Stream);
            Assert.AreEqual(1, target.Statistics.DroppedEvents);
            StringAssert.Contains(capture.Text, "invalid delivery stream name 'bad name!'");
        }

        [TestMethod]
        public async Task Write_ClientThrowsUnexpectedException_EventsKeptAndDeliveredOnRetry()
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => call == 0
                ? throw new ObjectDisposedException("client")
                : Task.FromResult(PutRecordBatchResult.AllAccepted(records.Length));
            var target = Harness.Target(client);
            using var capture = new InternalLogCapture(LogLevel.Error);
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Unexpected");

            for (int i = 0; i < 3; i++)
                logger.Info("e" + i);
            await client.WhenCalls(2).WaitAsync(TimeSpan.FromSeconds(30));
            factory.Flush();

            StringAssert.Contains(capture.Text, "ObjectDisposedException");
            Assert.AreEqual(3, target.Statistics.DeliveredEvents);
        }

        [TestMethod]
        public void Initialize_FailsAfterValidation_NLogOptionsLeftAsConfigured()
        {
            // The target never rewrites NLog's inherited options, whether it starts or not.
            var target = new FirehoseTarget { Name = "fh", DeliveryStreamName = "s", BatchSize = 300, QueueLimit = 700, Seams = { ClientFactory = _ => new RecordingClient().Client, GetEnvironmentVariable = _ => null, SdkFallbackRegion = () => null } };
            using var factory = new LogFactory();
            factory.Setup().LoadConfiguration(c => c.ForLogger().WriteTo(target));

            Assert.AreEqual(300, target.BatchSize);
            Assert.AreEqual(700, target.QueueLimit);
        }
    }
}
