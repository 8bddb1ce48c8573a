using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets;
using NLog.Targets.Firehose.Internal;
using NLog.Targets.Firehose.Tests.Support;
using NLog.Targets.Wrappers;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    public class FirehoseTargetNonRetryableTests
    {
        [TestMethod]
        [DataRow(400, "ResourceNotFoundException")]
        [DataRow(400, "InvalidArgumentException")]
        [DataRow(400, "AccessDeniedException")]
        [DataRow(400, "InvalidKMSResourceException")]
        [DataRow(403, "MissingAuthenticationTokenException")]
        [DataRow(0, "NoCredentials")]
        public void Write_NonRetryableError_NotRetriedAndBatchGoesToFallback(int status, string code)
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => throw new FirehoseServiceException(status, code, "details from service", "req-9");
            var target = Harness.Target(client, stream: "orders-stream");
            target.Region = "eu-west-3";
            var fallback = new MemoryTarget("fallback") { Layout = "${message}" };
            using var capture = new InternalLogCapture(LogLevel.Error);
            using var factory = Harness.Factory(new FallbackGroupTarget(target, fallback));
            var logger = factory.GetLogger("Permanent");

            for (int i = 0; i < 3; i++)
                logger.Info("e" + i);
            factory.Flush();

            Assert.AreEqual(1, client.Calls.Count, "a non-retryable error is not retried");
            CollectionAssert.AreEqual(new[] { "e0", "e1", "e2" }, fallback.Logs.ToArray());
            StringAssert.Contains(capture.Text, "orders-stream");
            StringAssert.Contains(capture.Text, "eu-west-3");
            StringAssert.Contains(capture.Text, code);
        }

        [TestMethod]
        public void Write_AfterMissingStreamIsCreated_LaterEventsDelivered()
        {
            var client = new RecordingClient();
            bool created = false;
            client.Respond = (call, records) => created
                ? Task.FromResult(PutRecordBatchResult.AllAccepted(records.Length))
                : throw new FirehoseServiceException(400, "ResourceNotFoundException", "not found", null);
            var target = Harness.Target(client);
            target.Layout = "${message}";
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Later");

            logger.Info("lost");
            factory.Flush();
            created = true;
            logger.Info("arrives");
            factory.Flush();

            Assert.AreEqual(2, client.Calls.Count);
            Assert.AreEqual("arrives\n", System.Text.Encoding.UTF8.GetString(client.Calls[1].Records.Single()));
            Assert.AreEqual(1, target.FailedEvents);
            Assert.AreEqual(1, target.DeliveredEvents);
        }

        [TestMethod]
        public void Write_InvalidRenderedStreamName_EventsFailWithClearError()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);
            target.DeliveryStreamName = "${event-properties:Stream}";
            var fallback = new MemoryTarget("fallback") { Layout = "${message}" };
            using var capture = new InternalLogCapture(LogLevel.Error);
            using var factory = Harness.Factory(new FallbackGroupTarget(target, fallback));

            factory.GetLogger("Names").Info("to {Stream}", "bad name!");
            factory.Flush();

            Assert.AreEqual(0, client.Calls.Count);
            Assert.AreEqual(1, fallback.Logs.Count);
            StringAssert.Contains(capture.Text, "invalid delivery stream name 'bad name!'");
        }
    
        [TestMethod]
        public void Write_ClientThrowsUnexpectedException_WriteFailsCleanlyAndNextWriteDelivers()
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => call == 0
                ? throw new ObjectDisposedException("client")
                : Task.FromResult(PutRecordBatchResult.AllAccepted(records.Length));
            var target = Harness.Target(client);
            target.Layout = "${message}";
            var fallback = new MemoryTarget("fallback") { Layout = "${message}" };
            using var capture = new InternalLogCapture(LogLevel.Error);
            using var factory = Harness.Factory(new FallbackGroupTarget(target, fallback) { ReturnToFirstOnSuccess = true });
            var logger = factory.GetLogger("Unexpected");

            for (int i = 0; i < 3; i++)
                logger.Info("e" + i);
            factory.Flush();
            logger.Info("later");
            factory.Flush();

            CollectionAssert.AreEqual(new[] { "e0", "e1", "e2" }, fallback.Logs.ToArray());
            StringAssert.Contains(capture.Text, "ObjectDisposedException");
            Assert.AreEqual("later\n", System.Text.Encoding.UTF8.GetString(client.Calls.Last().Records.Single()));
            Assert.AreEqual(1, target.DeliveredEvents);
        }

        [TestMethod]
        public void Initialize_FailsAfterValidation_BatchSizeLeftAsConfigured()
        {
            // Regression: batchSize was multiplied before the endpoint was resolved, so a failed start left it changed.
            var target = new FirehoseTarget { Name = "fh", DeliveryStreamName = "s", ClientFactory = _ => new RecordingClient().Client, GetEnvironmentVariable = _ => null, SdkFallbackRegion = () => null };
            using var factory = new LogFactory();
            factory.Setup().LoadConfiguration(c => c.ForLogger().WriteTo(target));

            Assert.AreEqual(500, target.BatchSize);
        }
    }
}
