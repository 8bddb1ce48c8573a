using System;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Delivery;
using NLog.Targets.Firehose.Internal.Diagnostics;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>The delivery pipeline on its own: a buffer, a substituted client, retry waits not slept.</summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class DeliveryPipelineTests
    {
        private static MemoryRecordBuffer Buffer(int records, string stream = "s")
        {
            var buffer = new MemoryRecordBuffer(long.MaxValue, int.MaxValue, () => DateTime.UtcNow);
            for (int i = 0; i < records; i++)
                buffer.Add(new BufferedRecord(stream, Encoding.UTF8.GetBytes("e" + i), LogLevel.Info.Ordinal, i));
            return buffer;
        }

        private static DeliveryPipeline Pipeline(RecordingClient client, MemoryRecordBuffer buffer, int workers,
            Func<TimeSpan, CancellationToken, Task>? delay = null, TimeSpan? retryTimeLimit = null, TimeSpan? pause = null, TargetStatistics? statistics = null)
        {
            var settings = new PipelineSettings
            {
                Statistics = statistics ?? new TargetStatistics(),
                CallSlots = workers,
                RetryTimeLimit = retryTimeLimit ?? TimeSpan.FromMinutes(1),
                PauseBase = pause ?? TimeSpan.FromMilliseconds(10),
                PauseMax = pause ?? TimeSpan.FromMilliseconds(10),
                Where = "test",
                Name = "test",
                Delay = delay ?? ((_, _) => Task.CompletedTask),
                Random = () => 0.5,
            };
            return new DeliveryPipeline(client.Client, buffer, settings);
        }

        private static async Task RunUntilIdle(DeliveryPipeline pipeline)
        {
            pipeline.Start();
            await pipeline.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));
            pipeline.Stop(TimeSpan.Zero);
        }

        private static string[] Texts(byte[][] records) => records.Select(r => Encoding.UTF8.GetString(r)).ToArray();

        [TestMethod]
        public async Task PersistentError_PausesDoubleFromTheFirstUpToTheCap_NoCallBeforeAPauseEndsOneAfter()
        {
            // Its earlier version read only the InternalLogger line while its clock jumped an hour past each pause: with
            // every pause really kept at 1 s it still passed. Here the clock stops a tick short of each pause's end, then
            // at it. Two call slots: one is always free to call, and the ten records make one call.
            var client = new RecordingClient();
            client.Respond = (_, _) => throw new FirehoseServiceException(400, "ResourceNotFoundException", "Firehose app-logs not found.", "r-1");
            var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            long ticks = start.Ticks;
            var settings = new PipelineSettings
            {
                CallSlots = 2,
                RetryTimeLimit = TimeSpan.FromMinutes(1),
                PauseBase = TimeSpan.FromSeconds(1),
                PauseMax = TimeSpan.FromSeconds(8),
                Where = "test",
                Name = "test",
                UtcNow = () => new DateTime(Interlocked.Read(ref ticks), DateTimeKind.Utc),
                Delay = (_, _) => Task.CompletedTask,
                Random = () => 0.5,
            };
            using var log = new InternalLogCapture(LogLevel.Error);
            var pipeline = new DeliveryPipeline(client.Client, Buffer(10), settings);
            pipeline.Start();
            await client.WhenCalls(1).WaitAsync(TimeSpan.FromSeconds(60));
            var pauseEnd = start;
            foreach (int seconds in new[] { 1, 2, 4, 8, 8 })
            {
                int calls = client.Calls.Count;
                Assert.IsTrue(SpinWait.SpinUntil(() => Pauses(log.Text).Count >= calls, TimeSpan.FromSeconds(60)), $"call {calls} was not followed by a pause");
                Assert.AreEqual(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), Pauses(log.Text)[calls - 1], "the pause said");
                pauseEnd += TimeSpan.FromSeconds(seconds);

                Interlocked.Exchange(ref ticks, pauseEnd.Ticks - 1);
                _ = pipeline.WhenIdleAsync(); // looks for a call to make, on this thread
                Assert.AreEqual(calls, client.Calls.Count, $"no call before the {seconds} s pause ends");

                Interlocked.Exchange(ref ticks, pauseEnd.Ticks);
                _ = pipeline.WhenIdleAsync();
                await client.WhenCalls(calls + 1).WaitAsync(TimeSpan.FromSeconds(60));
            }
            pipeline.Stop(TimeSpan.Zero);
            Assert.AreEqual(6, client.Calls.Count, "one call after each pause");
        }

        private static System.Collections.Generic.List<string> Pauses(string log) =>
            System.Text.RegularExpressions.Regex.Matches(log, "pausing its calls for ([0-9.]+) s").Select(m => m.Groups[1].Value).ToList();

        [TestMethod]
        public async Task Deliver_PartialFailure_FailedRecordsLeadTheNextCallToppedUpWithFreshOnes()
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => Task.FromResult(call == 0
                ? RecordingClient.PartialFailure(records.Length, Enumerable.Range(0, 100).Select(i => i * 5))
                : PutRecordBatchResult.AllAccepted(records.Length));
            var buffer = Buffer(1000);
            var statistics = new TargetStatistics();
            var pipeline = Pipeline(client, buffer, workers: 1, statistics: statistics);

            await RunUntilIdle(pipeline);

            var calls = client.Calls.Select(c => Texts(c.Records)).ToArray();
            Assert.AreEqual(3, calls.Length);
            CollectionAssert.AreEqual(Enumerable.Range(0, 100).Select(i => "e" + (i * 5)).ToArray(), calls[1].Take(100).ToArray(), "the failed records first, in order");
            CollectionAssert.AreEqual(Enumerable.Range(500, 400).Select(i => "e" + i).ToArray(), calls[1].Skip(100).ToArray(), "then fresh records up to 500");
            CollectionAssert.AreEqual(Enumerable.Range(900, 100).Select(i => "e" + i).ToArray(), calls[2]);
            Assert.AreEqual(1000, statistics.DeliveredEvents);
            Assert.AreEqual(1000, calls.Skip(1).SelectMany(c => c).Concat(calls[0].Where((_, i) => i % 5 != 0 || i >= 500)).Distinct().Count(), "no record accepted twice");
            Assert.AreEqual((0, 0L), buffer.Size);
        }

        [TestMethod]
        public async Task Deliver_CallFullyAcceptedWhileAnotherSlotBacksOff_BackedOffSlotCallsAgainAtOnce()
        {
            // Slot waits never end by themselves, and call 2 completes only once call 3 has started: only the wake that
            // follows call 1's success lets the slot that failed call 0 make call 3.
            var asleep = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            var call3Started = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            var client = new RecordingClient();
            client.Respond = (call, records) =>
            {
                if (call == 3)
                    call3Started.TrySetResult(true);
                return call switch
                {
                    0 => Task.FromException<PutRecordBatchResult>(new FirehoseServiceException(503, "ServiceUnavailableException", "Slow down.", null)),
                    1 => asleep.Task.ContinueWith(_ => PutRecordBatchResult.AllAccepted(records.Length), TaskScheduler.Default),
                    2 => call3Started.Task.ContinueWith(_ => PutRecordBatchResult.AllAccepted(records.Length), TaskScheduler.Default),
                    _ => Task.FromResult(PutRecordBatchResult.AllAccepted(records.Length)),
                };
            };
            Func<TimeSpan, CancellationToken, Task> neverEnding = (_, _) =>
            {
                asleep.TrySetResult(true);
                return new TaskCompletionSource<bool>().Task;
            };
            var statistics = new TargetStatistics();
            var pipeline = Pipeline(client, Buffer(1500), workers: 2, neverEnding, statistics: statistics);

            await RunUntilIdle(pipeline);

            Assert.AreEqual(1500, statistics.DeliveredEvents);
            Assert.AreEqual(4, client.Calls.Count);
        }

        [TestMethod]
        public async Task Deliver_PermanentError_OneCallStreamPausedRecordsKeptAndIdle()
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => throw new FirehoseServiceException(400, "ResourceNotFoundException", "not found", null);
            var buffer = Buffer(1200);
            // The stream's pause outlasts the test: with a 10 ms one, a busy machine could let it end (and a second call go
            // out) between the idle wait's return and Stop.
            var pipeline = Pipeline(client, buffer, workers: 1, pause: TimeSpan.FromMinutes(10));
            using var capture = new InternalLogCapture(LogLevel.Error);

            await RunUntilIdle(pipeline);

            Assert.AreEqual(1, client.Calls.Count);
            Assert.AreEqual(1200, buffer.Size.Records, "every record is kept");
            StringAssert.Contains(capture.Text, "ResourceNotFoundException");
        }

        [TestMethod]
        public async Task Deliver_NoProgressForTheTimeLimit_StreamPausesThenDeliversAndIdleWaitsForIt()
        {
            var client = new RecordingClient();
            client.Respond = (call, records) => call < 3
                ? throw new FirehoseServiceException(503, "ServiceUnavailableException", "Slow down.", null)
                : Task.FromResult(PutRecordBatchResult.AllAccepted(records.Length));
            var buffer = Buffer(10);
            var statistics = new TargetStatistics();
            var pipeline = Pipeline(client, buffer, workers: 1, retryTimeLimit: TimeSpan.Zero, statistics: statistics);
            using var capture = new InternalLogCapture(LogLevel.Error);

            await RunUntilIdle(pipeline);

            Assert.AreEqual(10, statistics.DeliveredEvents, "idle came only after the transient pause ended and the records went out");
            Assert.AreEqual(4, client.Calls.Count);
            StringAssert.Contains(capture.Text, "no call made progress");
        }
    }
}
