using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// The efficiency comparison (<c>-- compare [RUNS] [NAME-FILTER]</c>): each situation run RUNS times (default 3), the
    /// target and the baseline — NLog's AsyncTargetWrapper around a NullTarget with the same layout — alternating, each
    /// application in a process of its own against the stand-in in another (see <see cref="ProcessRun"/>). Prints every
    /// run, then per situation the median ratios of process CPU (user + system, logging until Shutdown returns) and of the
    /// logging loop's time, and whether every event arrived exactly once in every run.
    /// </summary>
    internal static class Compare
    {
        private static readonly (string Name, string[] Args)[] Situations =
        {
            ("flat-out 500,000, agnostic layout", new[] { "500000" }),
            ("flat-out 500,000, default layout", new[] { "500000", "layout=default" }),
            ("flat-out 500,000, agnostic, recordPacking", new[] { "500000", "RecordPacking=true" }),
            ("steady 40,000/s (400,000), agnostic layout", new[] { "400000", "40000" }),
            ("steady 40,000/s (400,000), default layout", new[] { "400000", "40000", "layout=default" }),
            ("steady 1,000/s (20,000), agnostic layout", new[] { "20000", "1000" }),
            ("steady 1,000/s (20,000), default layout", new[] { "20000", "1000", "layout=default" }),
        };

        public static void Print(TextWriter output, string[] args)
        {
            int runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
            string filter = args.Length > 2 ? args[2] : string.Empty;
            using var standIn = StandInProcess.Start();
            var summary = new List<string>();
            foreach (var (name, situation) in Situations)
            {
                if (!name.Contains(filter, StringComparison.OrdinalIgnoreCase))
                    continue;
                var cpu = new List<double>();
                var logging = new List<double>();
                var complete = new List<string>();
                bool allExact = true;
                for (int run = 0; run < runs; run++)
                {
                    var baseline = ProcessRun.RunOnce(standIn, Prepend("async-null", situation));
                    var firehose = ProcessRun.RunOnce(standIn, Prepend("firehose", situation));
                    output.WriteLine($"{name} | async-null: {baseline.Line}");
                    output.WriteLine($"{name} | firehose:   {firehose.Line}");
                    output.Flush();
                    cpu.Add(Number(firehose.Values, "cpu_ms") / Number(baseline.Values, "cpu_ms"));
                    logging.Add(Number(firehose.Values, "logging_s") / Number(baseline.Values, "logging_s"));
                    long count = long.Parse(situation[0], CultureInfo.InvariantCulture);
                    long arrived = (long)Number(firehose.Values, "arrived");
                    long distinct = (long)Number(firehose.Values, "distinct");
                    allExact &= arrived == count && distinct == count;
                    complete.Add(arrived == count && distinct == count ? "all once" : FormattableString.Invariant($"{distinct} of {count} ({arrived - distinct} twice)"));
                }
                summary.Add(FormattableString.Invariant(
                    $"{name}: CPU {Median(cpu):0.00}x ({string.Join(", ", cpu.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))}); logging loop {Median(logging):0.00}x ({string.Join(", ", logging.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))}); delivered: {(allExact ? "every event exactly once in every run" : string.Join(", ", complete))}"));
            }
            output.WriteLine();
            output.WriteLine("Ratios: this target / NLog's AsyncTargetWrapper + NullTarget (same layout, same run), median of " + runs);
            foreach (string line in summary)
                output.WriteLine(line);
        }

        private static string[] Prepend(string first, string[] rest)
        {
            var all = new string[rest.Length + 1];
            all[0] = first;
            rest.CopyTo(all, 1);
            return all;
        }

        private static double Number(Dictionary<string, string> values, string name) =>
            values.TryGetValue(name, out var value) ? double.Parse(value, CultureInfo.InvariantCulture) : double.NaN;

        private static double Median(List<double> values)
        {
            var sorted = values.OrderBy(v => v).ToList();
            return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        }
    }
}
