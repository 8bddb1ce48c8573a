using System.Collections.Generic;

namespace NLog.Targets.Firehose.Internal
{
    /// <summary>
    /// Splits encoded records into consecutive PutRecordBatch calls that respect the record-count and byte limits.
    /// </summary>
    internal static class BatchPlanner
    {
        /// <summary>
        /// Fills <paramref name="batches"/> with (start, count) slices of <paramref name="records"/>, in order. Every
        /// record must already be within the single-record limit; a record larger than <paramref name="maxBytes"/>
        /// still gets a call of its own.
        /// </summary>
        public static void Plan(IReadOnlyList<byte[]> records, int maxRecords, int maxBytes, List<(int Start, int Count)> batches)
        {
            int start = 0;
            int count = 0;
            long bytes = 0;
            for (int i = 0; i < records.Count; i++)
            {
                int size = records[i].Length;
                if (count > 0 && (count == maxRecords || bytes + size > maxBytes))
                {
                    batches.Add((start, count));
                    start = i;
                    count = 0;
                    bytes = 0;
                }
                count++;
                bytes += size;
            }
            if (count > 0)
                batches.Add((start, count));
        }
    }
}
