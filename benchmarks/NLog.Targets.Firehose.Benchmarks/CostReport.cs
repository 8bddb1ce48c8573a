using System;
using System.Collections.Generic;
using System.IO;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Delivery;
using NLog.Targets.Firehose.Internal.Intake;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// Billed 5 KB units per million events of about 200 bytes (the default JsonLayout), one event per record against
    /// record packing, cut into calls the way the target cuts them (500 records, 4,000,000 bytes).
    /// </summary>
    internal static class CostReport
    {
        public const int EventCount = 1_000_000;

        public static void Print(TextWriter output)
        {
            var layout = Events.JsonLayout();
            var encoder = new RecordEncoder(true, OversizeRecordAction.Truncate);
            var records = new List<BufferedRecord>(EventCount);
            long bytes = 0;
            for (int i = 0; i < EventCount; i++)
            {
                var e = Events.Create(i);
                e.Properties["RequestPath"] = "/api/orders/" + (i % 1000);
                var data = encoder.Encode(layout.Render(e), e, out _)!;
                bytes += data.Length;
                records.Add(new BufferedRecord("app-logs", data, 2, i));
            }

            var (plainRecords, plainCalls, plainUnits) = Bill(records, packedBytes: 0);
            output.WriteLine($"{EventCount:N0} events, {bytes / (double)EventCount:0} bytes each on average");
            output.WriteLine("| | records | calls | billed 5 KB units | units per event | vs one event per record |");
            output.WriteLine("|---|---|---|---|---|---|");
            output.WriteLine($"| one event per record | {plainRecords:N0} | {plainCalls:N0} | {plainUnits:N0} | {plainUnits / (double)EventCount:0.000} | 1× |");
            foreach (int packed in new[] { 64 * 1024, 256 * 1024, FirehoseLimits.MaxRecordBytes })
            {
                var (n, calls, units) = Bill(records, packed);
                output.WriteLine($"| packed, packedRecordBytes={packed} | {n:N0} | {calls:N0} | {units:N0} | {units / (double)EventCount:0.0000} | {plainUnits / (double)units:0.0}× fewer |");
            }
        }

        private static (long Records, long Calls, long Units) Bill(List<BufferedRecord> records, int packedBytes)
        {
            long n = 0, calls = 0, units = 0;
            int i = 0;
            while (i < records.Count)
            {
                // One call's worth, as MemoryRecordBuffer.TakeCall cuts it.
                var call = new List<BufferedRecord>();
                long callBytes = 0;
                int maxRecords = packedBytes > 0 ? int.MaxValue : FirehoseLimits.MaxRecordsPerCall;
                while (i < records.Count && call.Count < maxRecords && callBytes + records[i].Data.Length <= FirehoseLimits.MaxBytesPerCall)
                {
                    callBytes += records[i].Data.Length;
                    call.Add(records[i++]);
                }
                var wire = call;
                if (packedBytes > 0)
                {
                    wire = RecordPacker.Pack(call, packedBytes, FirehoseLimits.MaxRecordsPerCall, out _, out int used);
                    i -= call.Count - used; // what did not fit goes back, as in the pipeline
                }
                calls++;
                n += wire.Count;
                foreach (var record in wire)
                    units += RecordPacker.BilledUnits(record.Data.Length);
            }
            return (n, calls, units);
        }
    }
}
