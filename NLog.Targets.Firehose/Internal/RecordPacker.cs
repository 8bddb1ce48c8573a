using System;
using System.Collections.Generic;

namespace NLog.Targets.Firehose.Internal
{
    /// <summary>
    /// Record packing: many newline-delimited events in one Firehose record, for destinations that split records by
    /// line (S3). Consecutive records are concatenated, in order, up to a size; an event is never split, and a record
    /// that alone fills the size goes as it is.
    /// </summary>
    internal static class RecordPacker
    {
        /// <summary>Firehose bills each record rounded up to a multiple of this.</summary>
        public const int BillingUnitBytes = 5120;

        /// <summary>
        /// Packs <paramref name="records"/> into at most <paramref name="maxRecords"/> records of at most
        /// <paramref name="packedBytes"/> bytes each. <paramref name="starts"/>[i] is the index of the first of
        /// <paramref name="records"/> in packed record i; it holds those up to the next start. Records that do not fit in
        /// <paramref name="maxRecords"/> are left out: <paramref name="used"/> says how many were packed.
        /// </summary>
        public static List<BufferedRecord> Pack(IReadOnlyList<BufferedRecord> records, int packedBytes, int maxRecords, out List<int> starts, out int used)
        {
            var packed = new List<BufferedRecord>();
            starts = new List<int>();
            int i = 0;
            while (i < records.Count && packed.Count < maxRecords)
            {
                int first = i;
                long bytes = records[i].Data.Length;
                int level = records[i].Level;
                i++;
                while (i < records.Count && bytes + records[i].Data.Length <= packedBytes)
                {
                    bytes += records[i].Data.Length;
                    level = Math.Max(level, records[i].Level);
                    i++;
                }
                starts.Add(first);
                if (i - first == 1)
                {
                    packed.Add(records[first]);
                    continue;
                }
                var data = new byte[bytes];
                int offset = 0;
                for (int k = first; k < i; k++)
                {
                    var part = records[k].Data;
                    Buffer.BlockCopy(part, 0, data, offset, part.Length);
                    offset += part.Length;
                }
                packed.Add(new BufferedRecord(records[first].Stream, data, level, records[first].Sequence));
            }
            used = i;
            return packed;
        }

        /// <summary>Billed 5 KB units of a record of <paramref name="bytes"/> bytes.</summary>
        public static long BilledUnits(long bytes) => Math.Max(1, (bytes + BillingUnitBytes - 1) / BillingUnitBytes);
    }
}
