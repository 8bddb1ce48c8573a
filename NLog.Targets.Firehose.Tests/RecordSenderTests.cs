using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>The call scheduler on its own: one round of records, a substituted client, retry waits recorded not slept.</summary>
    [TestClass]
    public class RecordSenderTests
    {
        private static readonly DateTime Far = DateTime.UtcNow.AddHours(1);

        private static RecordSender Sender(RecordingClient client, int concurrency, Func<TimeSpan, CancellationToken, Task>? delay = null) =>
            new RecordSender(client.Client, new RetrySettings(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1)),
                500, concurrency, delay ?? ((_, _) => Task.CompletedTask), () => 0.5, () => DateTime.UtcNow, "test");

        private static Dictionary<string, List<BufferedRecord>> Records(int count, string stream = "s") =>
            new() { [stream] = Enumerable.Range(0, count).Select(i => new BufferedRecord(stream, Encoding.UTF8.GetBytes("e" + i), 2, i)).ToList() };

        private static string[] Texts(byte[][] records) => records.Select(r => Encoding.UTF8.GetString(r)).ToArray();

        [TestMethod]
        public async Task SendAsync_PartialFailure_FailedRecordsLeadTheNextCallToppedUpWithFreshOnes()
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => Task.FromResult(call == 0
                ? RecordingClient.PartialFailure(records.Length, Enumerable.Range(0, 100).Select(i => i * 5))
                : PutRecordBatchResult.AllAccepted(records.Length));

            var result = await Sender(client, concurrency: 1).SendAsync(Records(1000), Far, CancellationToken.None);

            var calls = client.Calls.Select(c => Texts(c.Records)).ToArray();
            Assert.AreEqual(3, calls.Length);
            CollectionAssert.AreEqual(Enumerable.Range(0, 100).Select(i => "e" + (i * 5)).ToArray(), calls[1].Take(100).ToArray(), "the failed records first, in order");
            CollectionAssert.AreEqual(Enumerable.Range(500, 400).Select(i => "e" + i).ToArray(), calls[1].Skip(100).ToArray(), "then fresh records up to 500");
            CollectionAssert.AreEqual(Enumerable.Range(900, 100).Select(i => "e" + i).ToArray(), calls[2]);
            Assert.AreEqual(1000, result.Delivered.Count);
            Assert.AreEqual(1000, result.Delivered.Select(r => r.Sequence).Distinct().Count(), "no record delivered twice");
        }

        [TestMethod]
        public async Task SendAsync_CallFullyAcceptedWhileAnotherBacksOff_BackedOffWorkerRetriesAtOnce()
        {
            // The backoff wait never ends by itself: only the other call's success can wake the throttled worker.
            var asleep = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            var client = new RecordingClient();
            client.Respond = (call, records) => call switch
            {
                0 => Task.FromException<PutRecordBatchResult>(new FirehoseServiceException(503, "ServiceUnavailableException", "Slow down.", null)),
                1 => asleep.Task.ContinueWith(_ => PutRecordBatchResult.AllAccepted(records.Length), TaskScheduler.Default),
                _ => Task.FromResult(PutRecordBatchResult.AllAccepted(records.Length)),
            };
            Func<TimeSpan, CancellationToken, Task> neverEnding = (_, _) =>
            {
                asleep.TrySetResult(true);
                return new TaskCompletionSource<bool>().Task;
            };

            var result = await Sender(client, concurrency: 2, neverEnding).SendAsync(Records(1000), Far, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.AreEqual(1000, result.Delivered.Count);
            Assert.AreEqual(3, client.Calls.Count);
        }

        [TestMethod]
        public async Task SendAsync_PermanentCallError_StreamStopsRecordsUndeliveredNotRetried()
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => throw new FirehoseServiceException(400, "ResourceNotFoundException", "not found", null);

            var result = await Sender(client, concurrency: 1).SendAsync(Records(1200), Far, CancellationToken.None);

            Assert.AreEqual(1, client.Calls.Count);
            Assert.AreEqual(1200, result.Undelivered.Count, "every record comes back to be kept");
            var failure = result.Failures.Single();
            Assert.IsTrue(failure.Persistent && failure.Permanent);
            Assert.AreEqual("ResourceNotFoundException", failure.ErrorCode);
        }

        [TestMethod]
        public async Task SendAsync_TimeLimitRunsOut_RecordsUndeliveredPersistentNotPermanent()
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => throw new FirehoseServiceException(503, "ServiceUnavailableException", "Slow down.", null);

            var result = await Sender(client, concurrency: 2).SendAsync(Records(700), DateTime.UtcNow, CancellationToken.None);

            Assert.AreEqual(700, result.Undelivered.Count);
            Assert.AreEqual(0, result.Delivered.Count);
            var failure = result.Failures.Single();
            Assert.IsTrue(failure.Persistent);
            Assert.IsFalse(failure.Permanent);
        }
    }
}
