using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    public class FirehoseTargetPartialFailureTests
    {
        [TestMethod]
        public void Write_PartialFailure_ResendsOnlyFailedRecordsInOrder()
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => Task.FromResult(call == 0
                ? RecordingClient.PartialFailure(records.Length, new[] { 1, 3, 4 })
                : PutRecordBatchResult.AllAccepted(records.Length));
            var delays = new List<TimeSpan>();
            var target = Harness.Target(client, delays);
            target.Layout = "${message}";
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Partial");

            for (int i = 0; i < 6; i++)
                logger.Info("e" + i);
            factory.Flush();

            Assert.AreEqual(2, client.Calls.Count);
            CollectionAssert.AreEqual(new[] { "e1\n", "e3\n", "e4\n" }, client.Calls[1].Records.Select(r => Encoding.UTF8.GetString(r)).ToArray());
            Assert.AreEqual(1, delays.Count);
            Assert.AreEqual(6, target.DeliveredEvents);
            Assert.AreEqual(0, target.BufferSize.Records);
        }

        [TestMethod]
        public void Write_RepeatedPartialFailures_AcceptedRecordNeverSentAgain()
        {
            var client = new RecordingClient();
            // Each call fails every record but the first: one record gets through per call.
            client.Respond = (call, records) => Task.FromResult(RecordingClient.PartialFailure(records.Length, Enumerable.Range(1, records.Length - 1)));
            var target = Harness.Target(client);
            target.Layout = "${message}";
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Partial");

            for (int i = 0; i < 5; i++)
                logger.Info("e" + i);
            factory.Flush();

            Assert.AreEqual(5, client.Calls.Count);
            var firstOfEachCall = client.Calls.Select(c => Encoding.UTF8.GetString(c.Records[0])).ToArray();
            CollectionAssert.AreEqual(new[] { "e0\n", "e1\n", "e2\n", "e3\n", "e4\n" }, firstOfEachCall);
        }

        [TestMethod]
        public void Write_WholeCallThrottledThenNetworkFault_RetriesWithGrowingBackoff()
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => call switch
            {
                0 => throw new FirehoseServiceException(400, "ThrottlingException", "Rate exceeded", "req-1"),
                1 => throw new HttpRequestException("connection reset"),
                2 => throw new FirehoseServiceException(503, "ServiceUnavailableException", "Slow down.", "req-2"),
                3 => throw new TimeoutException("took too long"),
                _ => Task.FromResult(PutRecordBatchResult.AllAccepted(records.Length)),
            };
            var delays = new List<TimeSpan>();
            var target = Harness.Target(client, delays);
            target.RetryBackoffMilliseconds = 100;
            using var factory = Harness.Factory(target);

            factory.GetLogger("Retry").Info("one");
            factory.Flush();

            Assert.AreEqual(5, client.Calls.Count);
            Assert.AreEqual(4, delays.Count);
            for (int i = 0; i < delays.Count; i++)
                Assert.IsTrue(delays[i] <= TimeSpan.FromMilliseconds(100 * Math.Pow(2, i)), $"delay {i} = {delays[i]}");
            Assert.AreEqual(1, target.DeliveredEvents);
        }

        [TestMethod]
        public void Write_RetryTimeLimitExceeded_EventsKeptStreamPausedAndDeliveredLater()
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => call < 3
                ? throw new FirehoseServiceException(503, "ServiceUnavailableException", "Slow down.", null)
                : Task.FromResult(PutRecordBatchResult.AllAccepted(records.Length));
            var target = Harness.Target(client);
            target.RetryTimeLimitSeconds = 0;
            target.Layout = "${message}";
            using var capture = new InternalLogCapture(LogLevel.Error);
            using var factory = Harness.Factory(target);

            factory.GetLogger("Limit").Info("keep me");
            factory.Flush(TimeSpan.FromSeconds(30));

            Assert.AreEqual(4, client.Calls.Count, "each round gave up at once, paused, and tried again");
            Assert.AreEqual("keep me\n", Encoding.UTF8.GetString(client.Calls.Last().Records.Single()));
            Assert.AreEqual(1, target.DeliveredEvents);
            StringAssert.Contains(capture.Text, "pausing its calls");
        }

        [TestMethod]
        public void Write_PermanentPerRecordError_OnlyThatRecordRejectedOthersRetried()
        {
            var client = new RecordingClient();
            client.Respond = (call, records) =>
            {
                if (call > 0)
                    return Task.FromResult(PutRecordBatchResult.AllAccepted(records.Length));
                var result = RecordingClient.PartialFailure(records.Length, new[] { 0 }, "InvalidKMSResourceException");
                result.ErrorCodes[2] = "ServiceUnavailableException";
                return Task.FromResult(new PutRecordBatchResult(2, result.ErrorCodes, result.ErrorMessages));
            };
            var target = Harness.Target(client);
            target.Layout = "${message}";
            using var capture = new InternalLogCapture(LogLevel.Error);
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Kms");

            for (int i = 0; i < 3; i++)
                logger.Info("e" + i);
            factory.Flush();

            Assert.AreEqual(2, client.Calls.Count);
            CollectionAssert.AreEqual(new[] { "e2\n" }, client.Calls[1].Records.Select(r => Encoding.UTF8.GetString(r)).ToArray());
            Assert.AreEqual(2, target.DeliveredEvents);
            Assert.AreEqual(1, target.RejectedEvents);
            StringAssert.Contains(capture.Text, "InvalidKMSResourceException");
        }
    }
}
