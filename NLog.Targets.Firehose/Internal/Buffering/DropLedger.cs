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
        private readonly LevelCounts _sinceReport = new LevelCounts();
        private DateTime _firstUtc;
        private DateTime _lastUtc;

        public DropLedger(TargetStatistics statistics, Func<DateTime> utcNow)
        {
            _statistics = statistics;
            _utcNow = utcNow;
        }

        /// <summary>Counts dropped events, per <see cref="LogLevel.Ordinal"/> (0 Trace … 5 Fatal).</summary>
        public void Count(LevelCounts byLevel)
        {
            var now = _utcNow();
            lock (_lock)
            {
                if (_sinceReport.Total == 0)
                    _firstUtc = now;
                _lastUtc = now;
                _sinceReport.Add(byLevel);
            }
            _statistics.QueueDropped(byLevel);
        }

        /// <summary>Counts one dropped event of <paramref name="level"/>.</summary>
        public void Count(int level)
        {
            Count(LevelCounts.One(level));
        }

        /// <summary>The drops since the last report, or null when there were none; resets the period.</summary>
        public DropReport? TakeReport()
        {
            lock (_lock)
            {
                if (_sinceReport.Total == 0)
                    return null;
                var report = new DropReport(_sinceReport.Clone(), _firstUtc, _lastUtc);
                _sinceReport.Clear();
                return report;
            }
        }
    }
}
