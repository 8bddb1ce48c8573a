using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace NLog.Targets.Firehose.Internal.Intake
{
    /// <summary>
    /// The scheduler NLog's <see cref="AsyncTaskTarget"/> runs the target's hand-overs and their continuations with: the
    /// thread pool, except that NLog's continuation of a hand-over runs on the thread that finished the hand-over, at once
    /// (it takes the next batch from NLog's queue, or notes that it is empty). Measured (README, "Performance and cost"):
    /// a hand-over cost three thread-pool work items (NLog's timer, the hand-over, the continuation), and after each the
    /// pool's workers spin before they sleep; this makes it two. Only that one continuation runs inline (the task running
    /// on this thread when it is queued must be the hand-over that <see cref="HandOverEnds"/> named), so nothing nests
    /// and nothing runs while NLog holds the target's lock on another path.
    /// </summary>
    internal sealed class HandOverScheduler : TaskScheduler
    {
        public static readonly HandOverScheduler Instance = new HandOverScheduler();

        [System.ThreadStatic]
        private static int t_endingHandOver;

        [System.ThreadStatic]
        private static Action? t_afterContinuation;

        private HandOverScheduler()
        {
        }

        /// <summary>
        /// Called last in a hand-over: its continuation, queued when it completes on this thread, runs here, and then
        /// <paramref name="afterContinuation"/> (when NLog's writer may have just ended: see <see cref="Diagnostics.NLogQueueWatch.RearmIfStopped"/>).
        /// </summary>
        public static void HandOverEnds(Action? afterContinuation = null)
        {
            t_endingHandOver = Task.CurrentId ?? 0;
            t_afterContinuation = afterContinuation;
        }

        protected override void QueueTask(Task task)
        {
            int ending = t_endingHandOver;
            var after = t_afterContinuation;
            t_endingHandOver = 0;
            t_afterContinuation = null;
            if (ending != 0 && Task.CurrentId == ending)
            {
                TryExecuteTask(task);
                after?.Invoke();
                return;
            }
#if NET8_0_OR_GREATER
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Scheduler.Execute(state.Task), (Scheduler: this, Task: task), preferLocal: true);
#else
            ThreadPool.UnsafeQueueUserWorkItem(state => Execute((Task)state), task);
#endif
        }

        /// <summary>
        /// Runs a task on the pool's thread; afterwards nothing of it stays on the thread: a hand-over whose continuation NLog
        /// registered only after it completed (so nothing ran inline) leaves its mark and callback behind, which would keep
        /// its target reachable from this thread.
        /// </summary>
        private void Execute(Task task)
        {
            TryExecuteTask(task);
            t_endingHandOver = 0;
            t_afterContinuation = null;
        }

        protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

        protected override IEnumerable<Task>? GetScheduledTasks() => null;
    }
}
