using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// The benchmark users care about (<c>-- web [rounds=N] [seconds=S] [rate=R] [high=H] [connections=C] [standin=yielding]</c>): a web service
    /// (<see cref="WebServiceApp"/>, 3 events per request) in its own process, driven by <c>wrk</c> in another, the stand-in
    /// in a third. Each round runs the service twice, with this target and with NLog's <c>AsyncTargetWrapper</c> +
    /// <c>NullTarget</c> (same layout), in alternating order; each service is warmed (<c>wrk</c> for 5 s, so the runtime has
    /// compiled what serving runs), then measured flat out (<c>wrk -t2 -cC</c>) and paced (R requests/s: each of 64
    /// connections waits 64,000/R ms between requests, a <c>wrk</c> script), and paced at H requests/s, a rate both services
    /// reach. CPU per request depends on the rate (at 6,000 requests/s it is nearly twice what it is flat out: fewer requests
    /// share each wake-up), and flat out the stand-in, on the same cores, takes CPU from the service with this target only:
    /// so the CPU a target costs is compared at one rate (paced, high), and flat out says what throughput is left. With
    /// <c>standin=yielding</c> the stand-in runs at the lowest priority while paced: it takes only CPU the service leaves
    /// idle, as a real endpoint on other machines takes none (flat out none is idle, so it runs as usual). For each: the service process's CPU per
    /// request (user + system, from <c>/proc</c> through <see cref="Process.TotalProcessorTime"/>), requests/s, and
    /// p50/p99/max latency as <c>wrk</c> reports them; after the service closes, whether every event it logged arrived
    /// exactly once, and in how many calls. Prints each round and the ratios target / baseline (medians over rounds; the
    /// worst max over all). <c>target=firehose-nonet</c> measures the target with no HTTP (the body and its hash only):
    /// its own share of the cost, apart from sending.
    /// </summary>
    internal static class WebServiceRun
    {
        private const int PacedConnections = 64;

        public static void Run(TextWriter output, string[] args)
        {
            var options = args.Skip(1).Select(a => a.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            int rounds = Int(options, "rounds", 5);
            int seconds = Int(options, "seconds", 10);
            int rate = Int(options, "rate", 6000);
            int high = Int(options, "high", 12000);
            int connections = Int(options, "connections", 32);
            string ours = options.TryGetValue("target", out var chosen) ? chosen : "firehose"; // firehose-nonet: no HTTP
            bool yielding = options.TryGetValue("standin", out var standInMode) && standInMode == "yielding";
            string pace = PaceScript("paced", rate);
            string paceHigh = PaceScript("high", high);

            using var standIn = StandInProcess.Start();
            var results = new List<(string Kind, string Mode, Phase Phase)>();
            var arrivals = new List<string>();
            output.WriteLine(FormattableString.Invariant($"web service, 3 events/request; rounds={rounds} seconds={seconds} flat: wrk -t2 -c{connections}; paced: {rate}/s and high: {high}/s over {PacedConnections} connections; stand-in {(yielding ? "yielding (nice 19) while paced" : "at normal priority")}"));
            for (int round = 0; round < rounds; round++)
            {
                var order = round % 2 == 0 ? new[] { ours, "async-null" } : new[] { "async-null", ours };
                foreach (string kind in order)
                {
                    int port = FreePort();
                    long callsBefore = standIn.Calls();
                    using var service = Start(kind, port, standIn.Url);
                    string url = $"http://127.0.0.1:{port}/orders/42";
                    Wrk(service, url, $"-t2 -c{connections} -d5s"); // warm-up: compiled, pools filled
                    var flat = Wrk(service, url, $"-t2 -c{connections} -d{seconds}s --latency");
                    standIn.Yielding = yielding; // paced, the service leaves CPU idle: the stand-in may take only that
                    var paced = Wrk(service, url, $"-t2 -c{PacedConnections} -d{seconds}s --latency -s {pace}");
                    var fast = Wrk(service, url, $"-t2 -c{PacedConnections} -d{seconds}s --latency -s {paceHigh}");
                    standIn.Yielding = false;
                    service.StandardInput.WriteLine("stop");
                    string closing = service.StandardOutput.ReadLine() ?? "";
                    service.WaitForExit();
                    long logged = long.Parse(Regex.Match(closing, @"logged=(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
                    string arrived = "";
                    if (kind == "firehose")
                    {
                        var (events, distinct, violations) = standIn.TakeDistinctCount();
                        bool once = events == logged && distinct == logged && violations == 0;
                        long calls = standIn.Calls() - callsBefore;
                        arrived = FormattableString.Invariant($" arrived={events} distinct={distinct} violations={violations} calls={calls} ({(double)events / Math.Max(1, calls):0} events/call) {(once ? "every event once" : "NOT EVERY EVENT ONCE")}");
                        arrivals.Add(once ? "once" : "not once");
                    }
                    results.Add((kind, "flat", flat));
                    results.Add((kind, "paced", paced));
                    results.Add((kind, "high", fast));
                    output.WriteLine(FormattableString.Invariant($"round {round + 1} {kind,-10} flat: {flat} | paced: {paced} | high: {fast} | {closing}{arrived}"));
                    output.Flush();
                }
            }
            File.Delete(pace);
            File.Delete(paceHigh);

            output.WriteLine($"Ratios this target / AsyncTargetWrapper + NullTarget: medians over {rounds} rounds (spread: lowest–highest round)");
            foreach (string mode in new[] { "flat", "paced", "high" })
            {
                var target = results.Where(r => r.Kind != "async-null" && r.Mode == mode).Select(r => r.Phase).ToArray();
                var theirs = results.Where(r => r.Kind == "async-null" && r.Mode == mode).Select(r => r.Phase).ToArray();
                string Ratio(Func<Phase, double> of) => RatioText(target.Select(of).ToArray(), theirs.Select(of).ToArray());
                output.WriteLine(FormattableString.Invariant(
                    $"  {mode}: cpu/request {Ratio(p => p.CpuPerRequestUs)}  requests/s {Ratio(p => p.RequestsPerSecond)}  p50 {Ratio(p => p.P50Ms)}  p99 {Ratio(p => p.P99Ms)}  worst max {target.Max(p => p.MaxMs):0.#} ms against {theirs.Max(p => p.MaxMs):0.#} ms"));
            }
            output.WriteLine($"  every event once: {arrivals.Count(a => a == "once")} of {arrivals.Count} rounds");
        }

        /// <summary>A wrk script that paces each of the connections so that together they ask <paramref name="rate"/> requests a second.</summary>
        private static string PaceScript(string name, int rate)
        {
            string path = Path.Combine(Path.GetTempPath(), $"fh-{name}-{Environment.ProcessId}.lua");
            File.WriteAllText(path, FormattableString.Invariant($"function delay()\n  return {PacedConnections * 1000.0 / rate:0.###}\nend\n"));
            return path;
        }

        private static string RatioText(double[] ours, double[] theirs)
        {
            var ratios = ours.Zip(theirs, (a, b) => a / b).OrderBy(r => r).ToArray();
            return FormattableString.Invariant($"{Median(ratios):0.00}× ({ratios[0]:0.00}–{ratios[^1]:0.00}; {Median(ours):0.##} against {Median(theirs):0.##})");
        }

        private static double Median(IEnumerable<double> values)
        {
            var sorted = values.OrderBy(v => v).ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }

        private static int Int(Dictionary<string, string> options, string name, int fallback) =>
            options.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

        private static Process Start(string kind, int port, Uri standIn)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            start.ArgumentList.Add(typeof(WebServiceRun).Assembly.Location);
            start.ArgumentList.Add("web-app");
            start.ArgumentList.Add(kind);
            start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add(standIn.ToString());
            var process = Process.Start(start) ?? throw new InvalidOperationException("the service did not start");
            if (process.StandardOutput.ReadLine() != "ready")
                throw new InvalidOperationException("the service did not say ready");
            return process;
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        /// <summary>Runs wrk against the service and reads its report, with the service's CPU over the run.</summary>
        private static Phase Wrk(Process service, string url, string arguments)
        {
            service.Refresh();
            var cpuBefore = service.TotalProcessorTime;
            var systemBefore = service.PrivilegedProcessorTime;
            var start = new ProcessStartInfo("wrk", arguments + " " + url) { RedirectStandardOutput = true, UseShellExecute = false };
            using var wrk = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start (apt-get install wrk)");
            string report = wrk.StandardOutput.ReadToEnd();
            wrk.WaitForExit();
            service.Refresh();
            var cpu = service.TotalProcessorTime - cpuBefore;
            var system = service.PrivilegedProcessorTime - systemBefore;
            long requests = long.Parse(Regex.Match(report, @"(\d+) requests in").Groups[1].Value, CultureInfo.InvariantCulture);
            var latency = Regex.Match(report, @"Latency\s+(\S+)\s+(\S+)\s+(\S+)");
            return new Phase
            {
                Requests = requests,
                CpuPerRequestUs = cpu.TotalMilliseconds * 1000 / Math.Max(1, requests),
                SystemPerRequestUs = system.TotalMilliseconds * 1000 / Math.Max(1, requests),
                RequestsPerSecond = double.Parse(Regex.Match(report, @"Requests/sec:\s+(\S+)").Groups[1].Value, CultureInfo.InvariantCulture),
                P50Ms = Percentile(report, "50%"),
                P99Ms = Percentile(report, "99%"),
                MaxMs = latency.Success ? Milliseconds(latency.Groups[3].Value) : double.NaN,
                Errors = Regex.Match(report, @"Non-2xx or 3xx responses: (\d+)|Socket errors: .*").Value,
            };
        }

        private static double Percentile(string report, string which)
        {
            var match = Regex.Match(report, @"^\s+" + Regex.Escape(which) + @"\s+(\S+)", RegexOptions.Multiline);
            return match.Success ? Milliseconds(match.Groups[1].Value) : double.NaN;
        }

        /// <summary>wrk's durations: 812.00us, 1.23ms, 1.05s, 2.00m.</summary>
        private static double Milliseconds(string text)
        {
            var match = Regex.Match(text, @"^([\d.]+)(us|ms|s|m)$");
            double value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            return match.Groups[2].Value switch
            {
                "us" => value / 1000,
                "ms" => value,
                "s" => value * 1000,
                _ => value * 60_000,
            };
        }

        private sealed class Phase
        {
            public long Requests { get; init; }

            public double CpuPerRequestUs { get; init; }

            public double SystemPerRequestUs { get; init; }

            public double RequestsPerSecond { get; init; }

            public double P50Ms { get; init; }

            public double P99Ms { get; init; }

            public double MaxMs { get; init; }

            public string Errors { get; init; } = "";

            public override string ToString() => FormattableString.Invariant(
                $"{RequestsPerSecond:0} req/s, cpu {CpuPerRequestUs:0.0} us/req ({SystemPerRequestUs:0.0} in the kernel), p50 {P50Ms:0.00} ms, p99 {P99Ms:0.00} ms, max {MaxMs:0.0} ms{(Errors.Length > 0 ? " " + Errors : "")}");
        }
    }
}
