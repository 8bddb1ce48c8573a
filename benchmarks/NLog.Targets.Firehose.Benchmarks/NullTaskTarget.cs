using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// NLog's <see cref="AsyncTaskTarget"/>, the target's base class, with the hand-over settings the target gives it
    /// (a 2,000-event queue handed over 1,000 at a time, NLog's 10 ms delay, <c>Block</c>) and nothing to do but render
    /// each event as a NullTarget with <c>formatMessage="true"</c> does: what NLog's hand-over itself costs, against its
    /// <c>AsyncTargetWrapper</c>.
    /// </summary>
    internal sealed class NullTaskTarget : AsyncTaskTarget
    {
        public NullTaskTarget()
        {
            BatchSize = 1000;
            QueueLimit = 2000;
            TaskDelayMilliseconds = 10;
            OverflowAction = NLog.Targets.Wrappers.AsyncTargetWrapperOverflowAction.Block;
        }

        public int Rendered { get; private set; }

        protected override Task WriteAsyncTask(LogEventInfo logEvent, CancellationToken cancellationToken)
        {
            Render(logEvent);
            return Task.CompletedTask;
        }

        protected override Task WriteAsyncTask(IList<LogEventInfo> logEvents, CancellationToken cancellationToken)
        {
            for (int i = 0; i < logEvents.Count; i++)
                Render(logEvents[i]);
            return Task.CompletedTask;
        }

        private void Render(LogEventInfo logEvent) => Rendered += RenderLogEvent(Layout, logEvent).Length > 0 ? 1 : 0;
    }
}
