using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Intake;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// The scheduler of NLog's hand-overs: only the continuation of the hand-over that just ended runs inline, and every
    /// continuation of a hand-over, inline or not, is followed by the target's look.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class HandOverSchedulerTests
    {
        private static readonly IList<LogEventInfo> NoEvents = Array.Empty<LogEventInfo>();

        [TestMethod]
        public void ContinuationOfAnEndingHandOver_RunsInlineWhereTheHandOverEnded()
        {
            var scheduler = new HandOverScheduler();
            int handOverThread = 0;
            var handOver = HandOverScheduler.NewHandOver(_ =>
            {
                handOverThread = Environment.CurrentManagedThreadId;
                HandOverScheduler.HandOverEnds();
            }, NoEvents);
            string? continuationStack = null;
            int continuationThread = 0;
            var continuation = handOver.ContinueWith(_ =>
            {
                continuationThread = Environment.CurrentManagedThreadId;
                continuationStack = Environment.StackTrace;
            }, CancellationToken.None, TaskContinuationOptions.DenyChildAttach, scheduler); // as NLog registers it

            handOver.Start(scheduler);

            Assert.IsTrue(continuation.Wait(TimeSpan.FromSeconds(30)));
            Assert.AreNotEqual(Environment.CurrentManagedThreadId, handOverThread, "the hand-over itself runs on the thread pool");
            Assert.AreEqual(handOverThread, continuationThread);
            StringAssert.Contains(continuationStack, nameof(HandOverScheduler) + ".QueueTask", "run inline, not queued again");
        }

        [TestMethod]
        public void AfterTheInlineContinuation_TheCallbackRunsThere()
        {
            // Where NLog's writer may just have ended (its continuation found the queue empty) the target looks once more.
            var (scheduler, order, done) = SchedulerThatRecordsItsLooks();
            var handOver = HandOverScheduler.NewHandOver(_ => HandOverScheduler.HandOverEnds(), NoEvents);
            var continuation = handOver.ContinueWith(_ => order.Enqueue(("continuation", Environment.CurrentManagedThreadId)),
                CancellationToken.None, TaskContinuationOptions.DenyChildAttach, scheduler);

            handOver.Start(scheduler);

            Assert.IsTrue(continuation.Wait(TimeSpan.FromSeconds(30)));
            Assert.IsTrue(done.Wait(TimeSpan.FromSeconds(30)), "the callback did not run");
            var seen = order.ToArray();
            CollectionAssert.AreEqual(new[] { "continuation", "after" }, Array.ConvertAll(seen, s => s.What));
            Assert.AreEqual(seen[0].Thread, seen[1].Thread, "both where the hand-over ended");
        }

        [TestMethod]
        public void ContinuationRegisteredAfterTheHandOverEnded_RunsOnThePool_AndTheCallbackFollowsIt()
        {
            // NLog may register its continuation only after the hand-over completed (its thread was held up between starting
            // the hand-over and registering): then the continuation is queued from NLog's thread, which may hold the target's
            // lock, so it must not run there, nor on the ended hand-over's thread by a stale mark. It goes to the pool, and the
            // target's look follows it there all the same: the writer can end in it as well. The hand-over itself is not
            // followed by the look.
            var (scheduler, order, done) = SchedulerThatRecordsItsLooks();
            var handOver = HandOverScheduler.NewHandOver(_ => HandOverScheduler.HandOverEnds(), NoEvents);
            handOver.Start(scheduler);
            Assert.IsTrue(handOver.Wait(TimeSpan.FromSeconds(30)));

            string? stack = null;
            var continuation = handOver.ContinueWith(_ =>
            {
                stack = Environment.StackTrace;
                order.Enqueue(("continuation", Environment.CurrentManagedThreadId));
            }, CancellationToken.None, TaskContinuationOptions.DenyChildAttach, scheduler);

            Assert.IsTrue(continuation.Wait(TimeSpan.FromSeconds(30)));
            Assert.IsTrue(done.Wait(TimeSpan.FromSeconds(30)), "no look followed the continuation that ran on the pool");
            var seen = order.ToArray();
            CollectionAssert.AreEqual(new[] { "continuation", "after" }, Array.ConvertAll(seen, s => s.What), "one look, after the continuation");
            Assert.AreNotEqual(Environment.CurrentManagedThreadId, seen[0].Thread, "not on the thread that registered it");
            Assert.IsFalse(stack!.Contains(nameof(HandOverScheduler) + ".QueueTask", StringComparison.Ordinal), stack);
            Assert.AreEqual(seen[0].Thread, seen[1].Thread, "the look where the continuation ran");
        }

        /// <summary>A scheduler whose look after a continuation is recorded in <c>order</c> (with its thread) and sets <c>done</c>.</summary>
        private static (HandOverScheduler Scheduler, ConcurrentQueue<(string What, int Thread)> Order, ManualResetEventSlim Done) SchedulerThatRecordsItsLooks()
        {
            var order = new ConcurrentQueue<(string What, int Thread)>();
            var done = new ManualResetEventSlim(false);
            var scheduler = new HandOverScheduler();
            scheduler.AfterContinuation = () =>
            {
                order.Enqueue(("after", Environment.CurrentManagedThreadId));
                done.Set();
            };
            return (scheduler, order, done);
        }

        [TestMethod]
        public void HandOverQueuedToThePool_IsToldToTheSeam_OtherTasksAreNot()
        {
            var scheduler = new HandOverScheduler();
            var queued = new ConcurrentQueue<Task>();
            scheduler.HandOverQueued = queued.Enqueue;
            var handOver = HandOverScheduler.NewHandOver(_ => { }, NoEvents);
            handOver.Start(scheduler);
            var other = new Task(() => { });
            other.Start(scheduler);

            Assert.IsTrue(Task.WaitAll(new[] { handOver, other }, TimeSpan.FromSeconds(30)));
            CollectionAssert.AreEqual(new[] { handOver }, queued.ToArray());
        }
    }
}
