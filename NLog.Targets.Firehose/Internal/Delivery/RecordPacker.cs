using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NLog.Targets.Firehose.Internal.Buffering;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// Record packing: many newline-delimited events in one Firehose record, for destinations that split records by
    /// line (S3). Consecutive records are concatenated, in order, up to a size; an event is never split, and a record
    /// that alone fills the size goes as it is. With gzip every record on the wire is one complete gzip member of its
    /// events, so the objects Firehose writes to S3 (records concatenated) are valid multi-member gzip files.
    /// </summary>
    internal static class RecordPacker
    {
        /// <summary>Gives the arrays of packed records (made by <see cref="Pack"/>) back to the pool once their call is over.</summary>
        [MethodImpl(HotPath.Optimized)]
        public static void Release(List<BufferedRecord> wire)
        {
            foreach (var record in wire)
            {
                if (record.Pooled && System.Runtime.InteropServices.MemoryMarshal.TryGetArray(record.Data, out var segment))
                    ArrayPool<byte>.Shared.Return(segment.Array!);
            }
        }

        /// <summary>Firehose bills each record rounded up to a multiple of this.</summary>
        public const int BillingUnitBytes = 5120;

        /// <summary>
        /// Packs <paramref name="records"/> into at most <paramref name="maxRecords"/> records of at most
        /// <paramref name="packedBytes"/> bytes each. <paramref name="starts"/>[i] is the index of the first of
        /// <paramref name="records"/> in packed record i; it holds those up to the next start. Records that do not fit in
        /// <paramref name="maxRecords"/> are left out: <paramref name="used"/> says how many were packed.
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        public static List<BufferedRecord> Pack(IReadOnlyList<BufferedRecord> records, int packedBytes, int maxRecords, out List<int> starts, out int used, bool gzip = false)
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
                if (gzip)
                {
                    packed.Add(Compress(records, first, i, bytes, level));
                    continue;
                }
                if (i - first == 1)
                {
                    packed.Add(records[first]);
                    continue;
                }
                // A packed record lives for one call: its array comes from the pool and goes back after the call (Release).
                var data = ArrayPool<byte>.Shared.Rent((int)bytes);
                int offset = 0;
                for (int k = first; k < i; k++)
                {
                    var part = records[k].Data;
                    part.Span.CopyTo(data.AsSpan(offset));
                    offset += part.Length;
                }
                packed.Add(new BufferedRecord(records[first].Stream, new ReadOnlyMemory<byte>(data, 0, offset), level, records[first].Sequence, owner: null, pooled: true));
            }
            used = i;
            return packed;
        }

        /// <summary>
        /// A call's records as they go on the wire: with packing (<paramref name="packedBytes"/> &gt; 0) packed into at most
        /// <paramref name="maxRecords"/> records, <paramref name="call"/> cut to the events that fit and the rest in
        /// <paramref name="leftOver"/>; without, the records as they are (<paramref name="starts"/> null).
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        public static List<BufferedRecord> PackCall(List<BufferedRecord> call, int packedBytes, int maxRecords, out List<int>? starts, out List<BufferedRecord>? leftOver, bool gzip = false)
        {
            starts = null;
            leftOver = null;
            if (packedBytes <= 0)
                return call;
            var packed = Pack(call, packedBytes, maxRecords, out var packedStarts, out int used, gzip);
            if (used < call.Count)
            {
                leftOver = call.GetRange(used, call.Count - used);
                call.RemoveRange(used, call.Count - used);
            }
            starts = packedStarts;
            return packed;
        }

        /// <summary>
        /// One gzip member of <paramref name="records"/>[<paramref name="first"/>..<paramref name="end"/>) (fastest level:
        /// log lines repeat their keys and values, and the level costs a fraction of the CPU of the best one).
        /// </summary>
        private static BufferedRecord Compress(IReadOnlyList<BufferedRecord> records, int first, int end, long rawBytes, int level)
        {
            var output = new MemoryStream((int)Math.Min(int.MaxValue, rawBytes / 4 + 64));
            using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            {
                for (int k = first; k < end; k++)
                {
                    var data = records[k].Data;
                    if (MemoryMarshal.TryGetArray(data, out var segment))
                        gzip.Write(segment.Array!, segment.Offset, segment.Count);
                    else
                        gzip.Write(data.ToArray(), 0, data.Length);
                }
            }
            return new BufferedRecord(records[first].Stream, new ReadOnlyMemory<byte>(output.GetBuffer(), 0, (int)output.Length), level, records[first].Sequence, owner: null);
        }

        /// <summary>Billed 5 KB units of a record of <paramref name="bytes"/> bytes.</summary>
        public static long BilledUnits(long bytes) => Math.Max(1, (bytes + BillingUnitBytes - 1) / BillingUnitBytes);
    }
}
