using System;
using System.Diagnostics;
using System.IO;
using NLog.Config;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// A quick look without BenchmarkDotNet (<c>-- throughput N</c>): log N events flat out through the target with a
    /// client that answers at once, then flush; prints the time per event for both, and what the target counted.
    /// </summary>
    internal static class Throughput
    {
        public static void Print(TextWriter output, int count)
        {
            using var factory = new LogFactory();
            var config = new LoggingConfiguration(factory);
            var target = new FirehoseTarget { Name = "fh", DeliveryStreamName = "app-logs", Region = "us-east-1", ClientFactory = _ => new Events.InstantClient() };
            string? layout = Environment.GetEnvironmentVariable("BENCH_LAYOUT");
            if (layout != null)
                target.Layout = layout;
            string? batch = Environment.GetEnvironmentVariable("BENCH_TASKDELAY");
            if (batch != null)
                target.TaskDelayMilliseconds = int.Parse(batch, System.Globalization.CultureInfo.InvariantCulture);
            config.AddRuleForAllLevels(target);
            factory.Configuration = config;
            var logger = factory.GetLogger("Bench");
            int gen2 = GC.CollectionCount(2);
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < count; i++)
                logger.Info(Events.Template, i, "customer-42");
            var logged = clock.Elapsed;
            factory.Flush(TimeSpan.FromMinutes(2));
            var flushed = clock.Elapsed;
            output.WriteLine($"{count:N0} events: logging {logged.TotalMilliseconds * 1e6 / count:0} ns/event, until flushed {flushed.TotalMilliseconds * 1e6 / count:0} ns/event; handed over {target.HandedOverEvents:N0}, delivered {target.DeliveredEvents:N0}, gen2 GCs {GC.CollectionCount(2) - gen2}");
        }
    }
}
