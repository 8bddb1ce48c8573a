using System;
using System.Diagnostics;
using System.IO;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// A quick look without BenchmarkDotNet (<c>-- throughput N</c>): log N events flat out through the target with a
    /// client that answers at once, then flush; prints the time per event for both, and what the target counted.
    /// </summary>
    internal static class Throughput
    {
        private static StandInProcess? _standIn;

        private static bool Stalled => Environment.GetEnvironmentVariable("BENCH_STALLED") == "1";

        /// <summary>Knobs for experiments, from environment variables: BENCH_LAYOUT, BENCH_NOSCOPE, BENCH_SLOTS, BENCH_HANDOVER, BENCH_TASKDELAY, BENCH_STANDIN (1: real HTTP into the stand-in in its own process), BENCH_STALLED (1: an endpoint that never answers; no flush then).</summary>
        private static void Configure(FirehoseTarget target)
        {
            string? layout = Environment.GetEnvironmentVariable("BENCH_LAYOUT");
            if (layout != null)
                target.Layout = layout;
            if (Environment.GetEnvironmentVariable("BENCH_NOSCOPE") != null && target.Layout is NLog.Layouts.JsonLayout json)
                json.IncludeScopeProperties = false;
            string? slots = Environment.GetEnvironmentVariable("BENCH_SLOTS");
            if (slots != null)
                target.MaxConcurrentRequests = int.Parse(slots, System.Globalization.CultureInfo.InvariantCulture);
            string? handOver = Environment.GetEnvironmentVariable("BENCH_HANDOVER");
            if (handOver != null)
                target.BatchSize = int.Parse(handOver, System.Globalization.CultureInfo.InvariantCulture);
            if (_standIn != null)
            {
                target.Seams.ClientFactory = null; // the real client, over HTTP, into the stand-in's own process
                target.ServiceUrl = _standIn.Url.ToString();
            }
            if (Stalled)
                target.Seams.ClientFactory = _ => new Events.StalledClient();
            string? delay = Environment.GetEnvironmentVariable("BENCH_TASKDELAY");
            if (delay != null)
                target.TaskDelayMilliseconds = int.Parse(delay, System.Globalization.CultureInfo.InvariantCulture);
        }

        public static void Print(TextWriter output, int count)
        {
            using var allocations = Environment.GetEnvironmentVariable("BENCH_ALLOCATIONS") != null ? new AllocationListener() : null;
            using var standIn = _standIn = Environment.GetEnvironmentVariable("BENCH_STANDIN") == "1" ? StandInProcess.Start() : null;
            var control = Environment.GetEnvironmentVariable("BENCH_CONTROL") == "async-null"
                ? new NLog.Targets.Wrappers.AsyncTargetWrapper(new NLog.Targets.NullTarget("null") { FormatMessage = true, Layout = Events.JsonLayout() }) { Name = "async", QueueLimit = 200_000, OverflowAction = NLog.Targets.Wrappers.AsyncTargetWrapperOverflowAction.Discard }
                : null;
            using var factory = Events.InstantFirehoseFactory(out var target, Configure, control);
            var logger = factory.GetLogger("Bench");
            int gen2 = GC.CollectionCount(2);
            int gen0 = GC.CollectionCount(0);
            var paused = GC.GetTotalPauseDuration();
            var clock = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            string? rate = Environment.GetEnvironmentVariable("BENCH_RATE"); // events per second, paced
            double perEvent = rate is null ? 0 : 1000.0 / double.Parse(rate, System.Globalization.CultureInfo.InvariantCulture);
            for (int i = 0; i < count; i++)
            {
                logger.Info(Events.Template, i, "customer-42");
                while (perEvent > 0 && clock.Elapsed.TotalMilliseconds < i * perEvent)
                    System.Threading.Thread.Sleep(1);
            }
            var logged = clock.Elapsed;
            if (!Stalled)
                factory.Flush(TimeSpan.FromMinutes(2));
            var flushed = clock.Elapsed;
            output.WriteLine($"{count:N0} events: logging {logged.TotalMilliseconds * 1e6 / count:0} ns/event, until flushed {flushed.TotalMilliseconds * 1e6 / count:0} ns/event; handed over {target.Statistics.HandedOverEvents:N0}, delivered {target.Statistics.DeliveredEvents:N0}, GCs gen0 {GC.CollectionCount(0) - gen0} gen2 {GC.CollectionCount(2) - gen2}, GC pauses {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:0} ms, peak buffer {target.BufferPeakBytes / 1048576.0:0.0} MB, peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0} MB, dropped in NLog's queue {target.Statistics.NLogQueueDroppedEvents:N0}, calls {target.Statistics.Calls:N0}");
            if (rate != null)
                output.WriteLine($"paced at {rate} events/s: {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / count * 1000:0} ms of CPU per 1,000 events, including the pacing loop");
            allocations?.Print(output);
        }
    }
}
