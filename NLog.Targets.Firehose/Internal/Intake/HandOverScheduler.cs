using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace NLog.Targets.Firehose.Internal.Intake
{
    /// <summary>
    /// The scheduler NLog's <see cref="AsyncTaskTarget"/> runs one target's hand-overs and their continuations with: the
    /// thread pool, except that NLog's continuation of a hand-over runs on the thread that finished the hand-over, at once
    /// (it takes the next batch from NLog's queue, or notes that it is empty). Measured (README, "Performance and cost"):
    /// a hand-over cost three thread-pool work items (NLog's timer, the hand-over, the continuation), and after each the
    /// pool's workers spin before they sleep; this makes it two. Only that one continuation runs inline (the task running
    /// on this thread when it is queued must be the hand-over that <see cref="HandOverEnds"/> named), so nothing nests
    /// and nothing runs while NLog holds the target's lock on another path.
    /// <para>
    /// Wherever NLog's continuation of a hand-over ran — inline, or on the pool when NLog registered it only after the
    /// hand-over had completed — <see cref="AfterContinuation"/> runs right after it: that is where NLog's writer ends when
    /// it finds its queue empty (see <see cref="Diagnostics.NLogQueueWatch.RearmIfStopped"/>).
    /// </para>
    /// </summary>
    internal sealed class HandOverScheduler : TaskScheduler
    {
        [System.ThreadStatic]
        private static int t_endingHandOver;

        private Action? _afterContinuation;

        /// <summary>Runs after each of NLog's continuations of a hand-over, on the thread that ran it; null: nothing.</summary>
        public Action? AfterContinuation
        {
            get => Volatile.Read(ref _afterContinuation);
            set => Volatile.Write(ref _afterContinuation, value);
        }

        /// <summary>Test seam: runs on NLog's thread right after a hand-over was queued to the pool (a test can hold it there).</summary>
        public Action<Task>? HandOverQueued { get; set; }

        /// <summary>A hand-over for NLog to start on this scheduler: <paramref name="handOver"/> with <paramref name="events"/>.</summary>
        public static Task NewHandOver(Action<object?> handOver, IList<LogEventInfo> events) => new HandOverTask(handOver, events);

        /// <summary>Called last in a hand-over: its continuation, queued when it completes on this thread, runs here.</summary>
        public static void HandOverEnds() => t_endingHandOver = Task.CurrentId ?? 0;

        protected override void QueueTask(Task task)
        {
            int ending = t_endingHandOver;
            t_endingHandOver = 0;
            if (ending != 0 && Task.CurrentId == ending)
            {
                TryExecuteTask(task);
                AfterContinuation?.Invoke();
                return;
            }
#if NET8_0_OR_GREATER
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Scheduler.Execute(state.Task), (Scheduler: this, Task: task), preferLocal: true);
#else
            ThreadPool.UnsafeQueueUserWorkItem(state => Execute((Task)state), task);
#endif
            if (task is HandOverTask)
                HandOverQueued?.Invoke(task);
        }

        /// <summary>
        /// Runs a task on the pool's thread. A hand-over whose continuation NLog registers only after it completed leaves its
        /// mark here (cleared: it must not match a later task on this thread); that continuation comes here too, and is
        /// followed by <see cref="AfterContinuation"/> as an inline one is.
        /// </summary>
        private void Execute(Task task)
        {
            TryExecuteTask(task);
            t_endingHandOver = 0;
            if (!(task is HandOverTask))
                AfterContinuation?.Invoke();
        }

        protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

        protected override IEnumerable<Task>? GetScheduledTasks() => null;

        /// <summary>A hand-over, told apart from NLog's continuations of it (which <see cref="AfterContinuation"/> follows).</summary>
        private sealed class HandOverTask : Task
        {
            public HandOverTask(Action<object?> handOver, object state)
                : base(handOver, state)
            {
            }
        }
    }
}
