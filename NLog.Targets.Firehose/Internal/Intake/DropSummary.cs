using System;
using NLog.Common;
using NLog.Layouts;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Diagnostics;

namespace NLog.Targets.Firehose.Internal.Intake
{
    /// <summary>
    /// The event that tells, in the stream's own format (the target's layout), how many events the buffer had to drop:
    /// the delivery pipeline adds one after a successful call that follows drops.
    /// </summary>
    internal sealed class DropSummary
    {
        private readonly Layout _layout;
        private readonly RecordEncoder _encoder;
        private readonly RecordSequence _sequence;
        private readonly string _name;

        public DropSummary(Layout layout, RecordEncoder encoder, RecordSequence sequence, string name)
        {
            _layout = layout;
            _encoder = encoder;
            _sequence = sequence;
            _name = name;
        }

        /// <summary>The summary record for <paramref name="stream"/>, or null when it cannot be rendered (said to the InternalLogger).</summary>
        public BufferedRecord? Render(string stream, DropReport report)
        {
            var summary = new LogEventInfo(LogLevel.Warn, "NLog.Targets.Firehose",
                $"NLog.Targets.Firehose dropped {report.Total} log events between {report.FirstUtc:o} and {report.LastUtc:o} to stay within its queue bounds ({report.ByLevel})");
            summary.Properties["droppedEvents"] = report.Total;
            for (int i = 0; i < LevelCounts.Count; i++)
                summary.Properties["dropped" + LevelCounts.Name(i)] = report.ByLevel[i];
            summary.Properties["droppedFrom"] = report.FirstUtc;
            summary.Properties["droppedUntil"] = report.LastUtc;
            try
            {
                // Layout.Render, not the target's RenderLogEvent: this runs on a call slot, beside NLog's writer thread.
                byte[]? data = _encoder.Encode(_layout.Render(summary), summary, out _);
                return data is null ? null : new BufferedRecord(stream, data, LogLevel.Warn.Ordinal, _sequence.Next());
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                InternalLogger.Warn(ex, "{0}: could not render the drop summary", _name);
                return null;
            }
        }
    }
}
