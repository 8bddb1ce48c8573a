namespace NLog.Targets.Firehose
{
    /// <summary>
    /// What the target does with an event that renders larger than Firehose's record limit (1,000 KiB).
    /// </summary>
    public enum OversizeRecordAction
    {
        /// <summary>
        /// Send a shortened record. With a <see cref="NLog.Layouts.JsonLayout"/> the record stays valid JSON
        /// (time, level, logger, shortened message and exception) and carries <c>"truncated":true</c> and
        /// <c>"originalBytes"</c>; with other layouts the text is cut and ends with <c>...[truncated]</c>.
        /// </summary>
        Truncate,

        /// <summary>
        /// Leave the event out. It is counted and reported through NLog's InternalLogger.
        /// </summary>
        Drop,
    }
}
