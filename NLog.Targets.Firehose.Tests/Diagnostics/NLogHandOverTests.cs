using System;
using System.Linq;
using System.Reflection;
using System.Threading;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Common;
using NLog.Targets.Firehose.Internal.Diagnostics;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>NLog's hand-over into the target: a writer that stopped with events waiting is restarted (NLog issue #4890).</summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public sealed class NLogHandOverTests
    {
        [TestMethod]
        public void WriterStoppedWithEventsWaiting_TheTargetRestartsIt_CountedAndSaidOnce()
        {
            // The lost wake-up (see NLogQueueWatch) leaves this state: an event in NLog's queue and no writer scheduled; every
            // later event finds the queue not empty and schedules nothing. It is recreated here on purpose: the event is put in
            // the queue past AsyncTaskTarget.Write, the one place that would schedule the writer, right after the target's own
            // look that follows NLog's continuation of the first hand-over (which found the queue empty and ended the writer):
            // put there any earlier, that look would rearm the writer and the watch would have nothing to restart.
            var client = new RecordingClient();
            var target = Harness.Target(client);
            target.Name = "stalled-" + Guid.NewGuid().ToString("N"); // the capture is process-wide: count this target's lines only
            target.LingerMilliseconds = 0;
            target.Seams.StallCheckPeriod = TimeSpan.FromMilliseconds(50);
            using var log = new InternalLogCapture(LogLevel.Warn);
            using var factory = Harness.Factory(target);
            var look = target.HandOvers.AfterContinuation;
            Assert.IsNotNull(look, "the target looks after each of NLog's continuations");
            LogEventInfo? stranded = new LogEventInfo(LogLevel.Info, "Stall", null, "stranded {Seq}", new object[] { 0 });
            using var strandedNow = new ManualResetEventSlim(false);
            target.HandOvers.AfterContinuation = () =>
            {
                look();
                if (Interlocked.Exchange(ref stranded, null) is LogEventInfo logEvent)
                {
                    EnqueuePastTheWriter(target, logEvent);
                    strandedNow.Set();
                }
            };
            var logger = factory.GetLogger("Stall");
            logger.Info("before {Seq}", -1);
            Assert.IsTrue(strandedNow.Wait(TimeSpan.FromSeconds(60)), "NLog's continuation of the first hand-over ran");

            for (int i = 1; i <= 100; i++)
                logger.Info("after {Seq}", i);

            Assert.IsTrue(SpinWait.SpinUntil(() => target.Statistics.DeliveredEvents == 102, TimeSpan.FromSeconds(60)),
                $"delivered {target.Statistics.DeliveredEvents} of 102: the hand-over was not restarted");
            Assert.IsTrue(target.Statistics.HandOverRestarts >= 1);
            int said = log.Text.Split('\n').Count(line => line.Contains(target.Name, StringComparison.Ordinal) && line.Contains("NLog's hand-over had stopped", StringComparison.Ordinal));
            Assert.AreEqual(1, said, "said once: " + log.Text);
        }

        [TestMethod]
        public void WriterEndsAsAnEventComesIn_TheHandOversEndRearmsIt_WithoutWaitingForTheWatch()
        {
            // The lost wake-up's moment: NLog's writer has just found its queue empty and ended, and an event comes in whose
            // logging call arms nothing. Recreated right there, after NLog's continuation of the hand-over (inline, where the
            // hand-over ended).
            StallRightAfterTheFirstContinuation_IsRearmedByTheLookThere(prepare: null, "the writer was not rearmed");
        }

        [TestMethod]
        public void ContinuationRegisteredLate_WriterEndsInItAsAnEventComesIn_TheLookAfterItRearms()
        {
            // NLog's thread is held between queuing the first hand-over and registering its continuation, until the hand-over
            // completed: the continuation then runs on the pool, not where the hand-over ended. The writer ends in it all the
            // same, and the lost wake-up is recreated right after it.
            int held = 0;
            bool heldUntilDone = false;
            StallRightAfterTheFirstContinuation_IsRearmedByTheLookThere(target => target.Seams.HandOverQueued = handOver =>
            {
                if (Interlocked.Exchange(ref held, 1) == 0)
                    heldUntilDone = SpinWait.SpinUntil(() => handOver.IsCompleted, TimeSpan.FromSeconds(30));
            }, "no look followed the late continuation, or it did not rearm");
            Assert.IsTrue(heldUntilDone, "NLog's thread was held until the hand-over completed");
        }

        /// <summary>
        /// Logs one event and, right after NLog's first continuation of a hand-over, puts a second one in NLog's queue past
        /// the writer (the stopped state); the watch's looks are an hour apart, so only the look after that continuation
        /// can restart the writer and deliver both.
        /// </summary>
        private static void StallRightAfterTheFirstContinuation_IsRearmedByTheLookThere(Action<FirehoseTarget>? prepare, string notRearmed)
        {
            var target = Harness.Target(new RecordingClient());
            target.LingerMilliseconds = 0;
            target.Seams.StallCheckPeriod = TimeSpan.FromHours(1);
            prepare?.Invoke(target);
            LogEventInfo? stranded = new LogEventInfo(LogLevel.Info, "Stall", null, "stranded {Seq}", new object[] { 0 });
            target.Seams.AfterNLogContinuation = () =>
            {
                if (Interlocked.Exchange(ref stranded, null) is LogEventInfo logEvent)
                    EnqueuePastTheWriter(target, logEvent);
            };
            using var factory = Harness.Factory(target);
            factory.GetLogger("Stall").Info("first {Seq}", -1);

            Assert.IsTrue(SpinWait.SpinUntil(() => target.Statistics.DeliveredEvents == 2, TimeSpan.FromSeconds(60)),
                $"delivered {target.Statistics.DeliveredEvents} of 2: {notRearmed}");
            Assert.IsNull(stranded, "the stall was recreated");
            Assert.AreEqual(0, target.Statistics.HandOverRestarts, "not by the watch");
            Assert.IsTrue(target.Statistics.HandOverRearms >= 1);
        }

        [TestMethod]
        public void EmptyQueueBetweenHandOvers_NextLookAPeriodLater_TheLongWaitOnlyWhenQuiet()
        {
            // Under load NLog's queue is often empty at a look, between two hand-overs. Taking that for quiet put the next
            // look a second away, and a stop right after it held the logging threads on the full queue that long (1.5 s
            // in a web service flat out).
            var target = new SilentTaskTarget { Name = "watched" };
            using var factory = Harness.Factory(target);
            long handOvers = 5;
            var period = TimeSpan.FromHours(1); // the watch's own thread never looks during the test
            using var watch = NLogQueueWatch.Start(target, _ => { }, () => handOvers, () => { }, period);
            Assert.IsNotNull(watch);

            Assert.AreEqual(period, watch.Look(), "hand-overs since the last look: events flow");
            Assert.AreEqual(TimeSpan.FromTicks(period.Ticks * 10), watch.Look(), "no hand-over since: quiet");
            handOvers++;
            Assert.AreEqual(period, watch.Look(), "flowing again");
        }

        /// <summary>An <see cref="AsyncTaskTarget"/> that takes every event and does nothing: NLog's queue, watched.</summary>
        private sealed class SilentTaskTarget : AsyncTaskTarget
        {
            protected override System.Threading.Tasks.Task WriteAsyncTask(LogEventInfo logEvent, CancellationToken cancellationToken) =>
                System.Threading.Tasks.Task.CompletedTask;
        }

        [TestMethod]
        public void SecondLook_ComesOnceNLogsOwnWakeUpIsWellPastDue()
        {
            // A look that finds events waiting with no writer looks again after twice NLog's own delay, and at least 100 ms: an
            // earlier second look would restart a writer whose timer is merely not due yet, or late on a busy machine.
            Assert.AreEqual(TimeSpan.FromMilliseconds(100), NLogQueueWatch.ConfirmDelay(10)); // the target's own taskDelayMilliseconds
            Assert.AreEqual(TimeSpan.FromMilliseconds(100), NLogQueueWatch.ConfirmDelay(0));
            Assert.AreEqual(TimeSpan.FromMilliseconds(100), NLogQueueWatch.ConfirmDelay(-1));
            Assert.AreEqual(TimeSpan.FromMilliseconds(100), NLogQueueWatch.ConfirmDelay(50));
            Assert.AreEqual(TimeSpan.FromMilliseconds(600), NLogQueueWatch.ConfirmDelay(300)); // a user's longer delay
            Assert.AreEqual(TimeSpan.FromMilliseconds(2L * int.MaxValue), NLogQueueWatch.ConfirmDelay(int.MaxValue));
        }

        private static void EnqueuePastTheWriter(AsyncTaskTarget target, LogEventInfo logEvent)
        {
            object queue = typeof(AsyncTaskTarget).GetField("_requestQueue", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(target)!;
            queue.GetType().GetMethod("Enqueue", new[] { typeof(AsyncLogEventInfo) })!.Invoke(queue, new object[] { logEvent.WithContinuation(_ => { }) });
        }
    }
}
