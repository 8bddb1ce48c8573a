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
    /// record packing, cut into calls the way the target cuts them (500 records, 4,000,000 bytes); and bytes ingested
    /// with packing alone against packing with <c>compression="GZip"</c>.
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

            var (plainRecords, plainCalls, plainUnits, plainBytes) = Bill(records, packedBytes: 0);
            output.WriteLine($"{EventCount:N0} events, {bytes / (double)EventCount:0} bytes each on average");
            output.WriteLine("| | records | calls | billed 5 KB units | units per event | vs one event per record |");
            output.WriteLine("|---|---|---|---|---|---|");
            output.WriteLine($"| one event per record | {plainRecords:N0} | {plainCalls:N0} | {plainUnits:N0} | {plainUnits / (double)EventCount:0.000} | 1× |");
            foreach (int packed in new[] { 64 * 1024, 256 * 1024, FirehoseLimits.MaxRecordBytes })
            {
                var (n, calls, units, _) = Bill(records, packed);
                output.WriteLine($"| packed, packedRecordBytes={packed} | {n:N0} | {calls:N0} | {units:N0} | {units / (double)EventCount:0.0000} | {plainUnits / (double)units:0.0}× fewer |");
            }

            // Bytes ingested (what Firehose bills once records are packed): packing alone against packing with gzip.
            output.WriteLine();
            output.WriteLine("| | records | calls | bytes ingested | bytes per event | billed 5 KB units | vs packing alone |");
            output.WriteLine("|---|---|---|---|---|---|---|");
            var (pn, pc, pu, pb) = Bill(records, FirehoseLimits.MaxRecordBytes);
            output.WriteLine($"| packed (recordPacking) | {pn:N0} | {pc:N0} | {pb:N0} | {pb / (double)EventCount:0.0} | {pu:N0} | 1× |");
            var started = System.Diagnostics.Stopwatch.StartNew();
            var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
            var (gn, gc, gu, gb) = Bill(records, FirehoseLimits.MaxRecordBytes, gzip: true);
            var gzipCpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu;
            output.WriteLine($"| packed + compression=GZip | {gn:N0} | {gc:N0} | {gb:N0} | {gb / (double)EventCount:0.0} | {gu:N0} | {pb / (double)gb:0.0}× fewer bytes |");
            output.WriteLine($"(packing and compressing {EventCount:N0} events: {gzipCpu.TotalMilliseconds:0} ms of CPU, {started.Elapsed.TotalMilliseconds:0} ms)");
        }

        private static (long Records, long Calls, long Units, long Bytes) Bill(List<BufferedRecord> records, int packedBytes, bool gzip = false)
        {
            long n = 0, calls = 0, units = 0, bytes = 0;
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
                    wire = RecordPacker.Pack(call, packedBytes, FirehoseLimits.MaxRecordsPerCall, out _, out int used, gzip);
                    i -= call.Count - used; // what did not fit goes back, as in the pipeline
                }
                calls++;
                n += wire.Count;
                foreach (var record in wire)
                {
                    units += RecordPacker.BilledUnits(record.Data.Length);
                    bytes += record.Data.Length;
                }
                if (packedBytes > 0)
                    RecordPacker.Release(wire);
            }
            return (n, calls, units, bytes);
        }
    }
}
