using System;
using NLog.Targets.Firehose.Internal.Diagnostics;

namespace NLog.Targets.Firehose.Internal.Buffering
{
    /// <summary>
    /// The drops of the buffer and of NLog's hand-over queue: per level since the last drop summary (for the summary event)
    /// and into the target's <see cref="TargetStatistics"/> (totals and the meter). Thread-safe.
    /// </summary>
    internal sealed class DropLedger
    {
        private readonly object _lock = new object();
        private readonly TargetStatistics _statistics;
        private readonly Func<DateTime> _utcNow;
        private readonly long[] _sinceReport = new long[6];
        private DateTime _firstUtc;
        private DateTime _lastUtc;

        public DropLedger(TargetStatistics statistics, Func<DateTime> utcNow)
        {
            _statistics = statistics;
            _utcNow = utcNow;
        }

        /// <summary>Counts dropped events, per <see cref="LogLevel.Ordinal"/> (0 Trace … 5 Fatal).</summary>
        public void Count(long[] byLevel)
        {
            var now = _utcNow();
            lock (_lock)
            {
                bool first = true;
                foreach (long n in _sinceReport)
                    first &= n == 0;
                if (first)
                    _firstUtc = now;
                _lastUtc = now;
                for (int i = 0; i < _sinceReport.Length && i < byLevel.Length; i++)
                    _sinceReport[i] += byLevel[i];
            }
            _statistics.QueueDropped(byLevel);
        }

        /// <summary>Counts one dropped event of <paramref name="level"/>.</summary>
        public void Count(int level)
        {
            var byLevel = new long[6];
            byLevel[Math.Min(Math.Max(level, 0), 5)] = 1;
            Count(byLevel);
        }

        /// <summary>The drops since the last report, or null when there were none; resets the period.</summary>
        public DropReport? TakeReport()
        {
            lock (_lock)
            {
                if (LevelCounts.Total(_sinceReport) == 0)
                    return null;
                var report = new DropReport((long[])_sinceReport.Clone(), _firstUtc, _lastUtc);
                Array.Clear(_sinceReport, 0, _sinceReport.Length);
                return report;
            }
        }
    }
}
