using System;
using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.IO;
using System.Linq;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>For <c>-- throughput</c>: samples allocations (the runtime's AllocationTick, one per ~100 KB) by type, small and large object heap.</summary>
    internal sealed class AllocationListener : EventListener
    {
        private readonly ConcurrentDictionary<string, long> _bytes = new ConcurrentDictionary<string, long>();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null)
                return;
            int kind = Convert.ToInt32(e.Payload[e.PayloadNames!.IndexOf("AllocationKind")], System.Globalization.CultureInfo.InvariantCulture);
            string type = e.Payload[e.PayloadNames.IndexOf("TypeName")]?.ToString() ?? "?";
            long amount = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount")], System.Globalization.CultureInfo.InvariantCulture);
            _bytes.AddOrUpdate((kind == 1 ? "LOH " : "SOH ") + type, amount, (_, v) => v + amount);
        }

        public void Print(TextWriter output)
        {
            foreach (var entry in _bytes.OrderByDescending(e => e.Value).Take(15))
                output.WriteLine($"  {entry.Value / 1048576.0,8:0.0} MB  {entry.Key}");
        }
    }
}
