using System.Threading;

namespace NLog.Targets.Firehose.Internal.Buffering
{
    /// <summary>Numbers records in arrival order (the buffer sends oldest first): events, drop summaries, recovered records.</summary>
    internal sealed class RecordSequence
    {
        private long _last;

        public long Next() => Interlocked.Increment(ref _last);
    }
}
