using System.Collections.Generic;

namespace NLog.Targets.Firehose.Internal
{
    /// <summary>Sizes PutRecordBatch calls within the record-count and byte limits.</summary>
    internal static class BatchPlanner
    {
        /// <summary>
        /// How many records from <paramref name="start"/> go into the next call: as many as fit within
        /// <paramref name="maxRecords"/> and <paramref name="maxBytes"/>. Every record is within the single-record limit,
        /// which is below the per-call byte limit, so an empty call always takes at least one.
        /// </summary>
        public static int NextCallSize(IReadOnlyList<BufferedRecord> records, int start, int maxRecords, int maxBytes)
        {
            int count = 0;
            long bytes = 0;
            for (int i = start; i < records.Count && count < maxRecords; i++)
            {
                int size = records[i].Data.Length;
                if (bytes + size > maxBytes)
                    break;
                bytes += size;
                count++;
            }
            return count;
        }
    }
}
