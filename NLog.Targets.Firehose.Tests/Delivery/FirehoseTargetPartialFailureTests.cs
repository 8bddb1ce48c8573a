using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class FirehoseTargetPartialFailureTests
    {
        /// <summary>Answers per record: <paramref name="fails"/> says whether this attempt of that record fails; records already accepted are reported as resent.</summary>
        private static Func<int, byte[][], Task<PutRecordBatchResult>> PerRecord(Func<string, int, bool> fails, HashSet<string> accepted, List<string> resentAfterAccept)
        {
            var attempts = new Dictionary<string, int>();
            return (call, records) =>
            {
                lock (attempts)
                {
                    var codes = new string?[records.Length];
                    for (int i = 0; i < records.Length; i++)
                    {
                        string text = Encoding.UTF8.GetString(records[i]);
                        if (accepted.Contains(text))
                            resentAfterAccept.Add(text);
                        int attempt = attempts[text] = attempts.TryGetValue(text, out int n) ? n + 1 : 1;
                        if (fails(text, attempt))
                            codes[i] = "ServiceUnavailableException";
                        else
                            accepted.Add(text);
                    }
                    return Task.FromResult(new PutRecordBatchResult(codes.Count(c => c != null), codes, codes.Select(c => c is null ? null : "Slow down.").ToArray()));
                }
            };
        }

        [TestMethod]
        public void Write_PartialFailure_ResendsOnlyFailedRecordsInOrder()
        {
            var accepted = new HashSet<string>();
            var resent = new List<string>();
            var client = new RecordingClient();
            client.Respond = PerRecord((text, attempt) => attempt == 1 && text is "e1\n" or "e3\n" or "e4\n", accepted, resent);
            var delays = new List<TimeSpan>();
            var target = Harness.Target(client, delays);
            target.Layout = "${message}";
            target.MaxConcurrentRequests = 1;
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Partial");

            for (int i = 0; i < 6; i++)
                logger.Info("e" + i);
            factory.Flush();

            var sent = client.AllTexts.ToList();
            var secondAttempts = sent.Where((text, index) => sent.IndexOf(text) != index).ToArray();
            CollectionAssert.AreEqual(new[] { "e1\n", "e3\n", "e4\n" }, secondAttempts, "only the failed records are sent again, in order");
            CollectionAssert.AreEqual(Array.Empty<string>(), resent, "no accepted record is sent again");
            Assert.IsTrue(delays.Count >= 1, "the resend waited");
            Assert.AreEqual(6, target.Statistics.DeliveredEvents);
            Assert.AreEqual(0, target.BufferSize.Records);
        }

        [TestMethod]
        public void Write_RepeatedPartialFailures_AcceptedRecordNeverSentAgain()
        {
            // Each record fails its first three attempts: many rounds of partial failure.
            var accepted = new HashSet<string>();
            var resent = new List<string>();
            var client = new RecordingClient();
            client.Respond = PerRecord((text, attempt) => attempt <= 3 && text != "e0\n", accepted, resent);
            var target = Harness.Target(client);
            target.Layout = "${message}";
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Partial");

            for (int i = 0; i < 50; i++)
                logger.Info("e" + i);
            factory.Flush();

            CollectionAssert.AreEqual(Array.Empty<string>(), resent, "no accepted record is sent again");
            Assert.AreEqual(50, accepted.Count);
            Assert.AreEqual(50, target.Statistics.DeliveredEvents);
            Assert.AreEqual(1 + 49 * 4, client.AllTexts.Count(), "e0 once, every other record four times");
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
            Assert.AreEqual(1, target.Statistics.DeliveredEvents);
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
            Assert.AreEqual(1, target.Statistics.DeliveredEvents);
            StringAssert.Contains(capture.Text, "pausing its calls");
        }

        [TestMethod]
        public void Write_PermanentPerRecordError_OnlyThatRecordRejectedOthersRetried()
        {
            // e0 is refused for good (a KMS error on the record), e2 is throttled the first time, e1 goes through.
            var client = new RecordingClient();
            int e2Attempts = 0;
            client.Respond = (call, records) =>
            {
                var codes = records.Select(r => Encoding.UTF8.GetString(r) switch
                {
                    "e0\n" => "InvalidKMSResourceException",
                    "e2\n" when Interlocked.Increment(ref e2Attempts) == 1 => "ServiceUnavailableException",
                    _ => null,
                }).ToArray();
                return Task.FromResult(new PutRecordBatchResult(codes.Count(c => c != null), codes, codes.Select(c => c is null ? null : "msg").ToArray()));
            };
            var target = Harness.Target(client);
            target.Layout = "${message}";
            using var capture = new InternalLogCapture(LogLevel.Error);
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Kms");

            for (int i = 0; i < 3; i++)
                logger.Info("e" + i);
            factory.Flush();

            var sent = client.AllTexts.ToList();
            Assert.AreEqual(1, sent.Count(t => t == "e0\n"), "the refused record is not retried");
            Assert.AreEqual(1, sent.Count(t => t == "e1\n"));
            Assert.AreEqual(2, sent.Count(t => t == "e2\n"), "the throttled record is sent again");
            Assert.AreEqual(2, target.Statistics.DeliveredEvents);
            Assert.AreEqual(1, target.Statistics.RejectedEvents);
            StringAssert.Contains(capture.Text, "InvalidKMSResourceException");
        }
    }
}
