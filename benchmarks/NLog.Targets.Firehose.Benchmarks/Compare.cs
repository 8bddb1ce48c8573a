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
    /// run, then per situation the median ratios of process CPU (user + system, logging until Shutdown returns), of the
    /// steady state's CPU (paced runs: from the warm-up's end, once the runtime has compiled what runs, to the end of the
    /// logging loop) and of the logging loop's time, whether every event arrived exactly once in every run, and how often
    /// NLog's writer had to be restarted (the watch) or rearmed (the look after each of NLog's continuations).
    /// </summary>
    internal static class Compare
    {
        private static readonly (string Name, string[] Args)[] Situations =
        {
            ("flat-out 500,000, agnostic layout", new[] { "500000" }),
            ("flat-out 500,000, default layout", new[] { "500000", "layout=default" }),
            ("flat-out 500,000, agnostic, recordPacking", new[] { "500000", "RecordPacking=true" }),
            ("steady 40,000/s (1,200,000 in 30 s; steady from 15 s), agnostic layout", new[] { "1200000", "40000", "warmup=15" }),
            ("steady 40,000/s (1,200,000 in 30 s; steady from 15 s), default layout", new[] { "1200000", "40000", "layout=default", "warmup=15" }),
            ("steady 1,000/s (90,000 in 90 s; steady from 60 s), agnostic layout", new[] { "90000", "1000", "warmup=60" }),
            ("steady 1,000/s (90,000 in 90 s; steady from 60 s), default layout", new[] { "90000", "1000", "layout=default", "warmup=60" }),
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
                var steady = new List<double>();
                var compiling = new List<double>();
                var baselineCompiling = new List<double>();
                var complete = new List<string>();
                bool allExact = true;
                long restarts = 0, rearms = 0;
                int runsRestarted = 0;
                for (int run = 0; run < runs; run++)
                {
                    var baseline = ProcessRun.RunOnce(standIn, Prepend("async-null", situation));
                    var firehose = ProcessRun.RunOnce(standIn, Prepend("firehose", situation));
                    output.WriteLine($"{name} | async-null: {baseline.Line}");
                    output.WriteLine($"{name} | firehose:   {firehose.Line}");
                    output.Flush();
                    cpu.Add(Number(firehose.Values, "cpu_ms") / Number(baseline.Values, "cpu_ms"));
                    logging.Add(Number(firehose.Values, "logging_s") / Number(baseline.Values, "logging_s"));
                    compiling.Add(Number(firehose.Values, "jit_ms") / 1000);
                    baselineCompiling.Add(Number(baseline.Values, "jit_ms") / 1000);
                    if (firehose.Values.ContainsKey("steady_cpu_ms_per_s"))
                        steady.Add(Number(firehose.Values, "steady_cpu_ms_per_s") / Number(baseline.Values, "steady_cpu_ms_per_s"));
                    long restarted = (long)Number(firehose.Values, "restarts");
                    restarts += restarted;
                    runsRestarted += restarted > 0 ? 1 : 0;
                    rearms += (long)Number(firehose.Values, "rearms");
                    long count = long.Parse(situation[0], CultureInfo.InvariantCulture);
                    long arrived = (long)Number(firehose.Values, "arrived");
                    long distinct = (long)Number(firehose.Values, "distinct");
                    long violations = (long)Number(firehose.Values, "violations");
                    allExact &= arrived == count && distinct == count && violations == 0;
                    complete.Add(arrived == count && distinct == count && violations == 0 ? "all once"
                        : FormattableString.Invariant($"{distinct} of {count} ({arrived - distinct} twice, {violations} protocol violations)"));
                }
                string steadyText = steady.Count == 0 ? string.Empty
                    : FormattableString.Invariant($"; steady-state CPU {Median(steady):0.00}x ({string.Join(", ", steady.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))})");
                summary.Add(FormattableString.Invariant(
                    $"{name}: CPU {Median(cpu):0.00}x ({string.Join(", ", cpu.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))}){steadyText}; logging loop {Median(logging):0.00}x ({string.Join(", ", logging.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))}); delivered: {(allExact ? "every event exactly once in every run" : string.Join(", ", complete))}; compiling {Median(compiling):0.0} s against {Median(baselineCompiling):0.0} s; NLog's writer restarted by the watch {restarts} times in {runsRestarted} of {runs} runs, rearmed after a continuation {rearms} times"));
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
