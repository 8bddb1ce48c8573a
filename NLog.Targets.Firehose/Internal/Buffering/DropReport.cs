using System;
using NLog.Targets.Firehose.Internal.Diagnostics;

namespace NLog.Targets.Firehose.Internal.Buffering
{
    /// <summary>Counts of events the buffer had to drop, by level, over a period.</summary>
    internal sealed class DropReport
    {
        public DropReport(LevelCounts byLevel, DateTime firstUtc, DateTime lastUtc)
        {
            ByLevel = byLevel;
            FirstUtc = firstUtc;
            LastUtc = lastUtc;
        }

        /// <summary>Dropped events per <see cref="LogLevel.Ordinal"/> (0 Trace … 5 Fatal).</summary>
        public LevelCounts ByLevel { get; }

        public DateTime FirstUtc { get; }

        public DateTime LastUtc { get; }

        public long Total => ByLevel.Total;
    }
}
