using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Intake;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>The scheduler of NLog's hand-overs: only the continuation of the hand-over that just ended runs inline.</summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class HandOverSchedulerTests
    {
        private static readonly TaskScheduler Scheduler = HandOverScheduler.Instance;

        [TestMethod]
        public void ContinuationOfAnEndingHandOver_RunsInlineWhereTheHandOverEnded()
        {
            int handOverThread = 0;
            var handOver = new Task(() =>
            {
                handOverThread = Environment.CurrentManagedThreadId;
                HandOverScheduler.HandOverEnds();
            });
            string? continuationStack = null;
            int continuationThread = 0;
            var continuation = handOver.ContinueWith(_ =>
            {
                continuationThread = Environment.CurrentManagedThreadId;
                continuationStack = Environment.StackTrace;
            }, CancellationToken.None, TaskContinuationOptions.DenyChildAttach, Scheduler); // as NLog registers it

            handOver.Start(Scheduler);

            Assert.IsTrue(continuation.Wait(TimeSpan.FromSeconds(30)));
            Assert.AreNotEqual(Environment.CurrentManagedThreadId, handOverThread, "the hand-over itself runs on the thread pool");
            Assert.AreEqual(handOverThread, continuationThread);
            StringAssert.Contains(continuationStack, nameof(HandOverScheduler) + ".QueueTask", "run inline, not queued again");
        }

        [TestMethod]
        public void AfterTheInlineContinuation_TheHandOversCallbackRunsThere()
        {
            // Where NLog's writer may just have ended (its continuation found the queue empty) the target looks once more.
            var order = new System.Collections.Concurrent.ConcurrentQueue<(string What, int Thread)>();
            var done = new ManualResetEventSlim(false);
            var handOver = new Task(() => HandOverScheduler.HandOverEnds(() =>
            {
                order.Enqueue(("after", Environment.CurrentManagedThreadId));
                done.Set();
            }));
            var continuation = handOver.ContinueWith(_ => order.Enqueue(("continuation", Environment.CurrentManagedThreadId)),
                CancellationToken.None, TaskContinuationOptions.DenyChildAttach, Scheduler);

            handOver.Start(Scheduler);

            Assert.IsTrue(continuation.Wait(TimeSpan.FromSeconds(30)));
            Assert.IsTrue(done.Wait(TimeSpan.FromSeconds(30)), "the callback did not run");
            var seen = order.ToArray();
            CollectionAssert.AreEqual(new[] { "continuation", "after" }, Array.ConvertAll(seen, s => s.What));
            Assert.AreEqual(seen[0].Thread, seen[1].Thread, "both where the hand-over ended");
        }

        [TestMethod]
        public void HandOverWithNoInlineContinuation_LeavesNothingOnItsThread()
        {
            // NLog may register its continuation only after the hand-over completed: then nothing runs inline, and the
            // callback (which holds the target's parts) must not stay reachable from the pool thread.
            var collected = RunHandOverWithoutContinuation();
            bool gone = SpinWait.SpinUntil(() =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return !collected.IsAlive;
            }, TimeSpan.FromSeconds(10));
            Assert.IsTrue(gone, "the callback stayed reachable after its hand-over ended");
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static WeakReference RunHandOverWithoutContinuation()
        {
            var parts = new object();
            Action after = () => GC.KeepAlive(parts);
            var handOver = new Task(() => HandOverScheduler.HandOverEnds(after));
            handOver.Start(Scheduler);
            Assert.IsTrue(handOver.Wait(TimeSpan.FromSeconds(30)));
            return new WeakReference(after);
        }

        [TestMethod]
        public void TaskQueuedAnywhereElse_GoesToThePool()
        {
            // A hand-over that ended, but whose continuation is registered only afterwards, from this thread: it must not run
            // here (NLog may hold the target's lock on this path), nor on the ended hand-over's thread by a stale mark.
            var handOver = new Task(() => HandOverScheduler.HandOverEnds(() => Assert.Fail("no continuation ran inline: nothing to follow")));
            handOver.Start(Scheduler);
            Assert.IsTrue(handOver.Wait(TimeSpan.FromSeconds(30)));

            string? stack = null;
            int thread = 0;
            var continuation = handOver.ContinueWith(_ =>
            {
                thread = Environment.CurrentManagedThreadId;
                stack = Environment.StackTrace;
            }, CancellationToken.None, TaskContinuationOptions.DenyChildAttach, Scheduler);

            Assert.IsTrue(continuation.Wait(TimeSpan.FromSeconds(30)));
            Assert.AreNotEqual(Environment.CurrentManagedThreadId, thread);
            Assert.IsFalse(stack!.Contains(nameof(HandOverScheduler) + ".QueueTask", StringComparison.Ordinal), stack);
        }
    }
}
