using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using NLog.Layouts;
using NLog.Targets.Wrappers;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// Whole-process runs, as users run the target (<c>-- process TARGET COUNT [RATE] [key=value…]</c>): the stand-in in a
    /// process of its own, the application in another that logs <c>log.Info("event {seq} {pad}", i, pad)</c> (pad = 100
    /// characters) through <see cref="LogManager"/>, then calls <c>LogManager.Shutdown()</c>. Prints one line with the
    /// application process's CPU (user + system), its peak working set, its compiling, its garbage collections during the
    /// run (gen0/gen1 counts, pause time, bytes allocated), and what arrived.
    /// <list type="bullet">
    /// <item>TARGET: <c>firehose</c>; <c>async-null</c>, NLog's AsyncTargetWrapper (queueLimit 200,000, overflowAction Block,
    /// batchSize 1,000, timeToSleepBetweenBatches 1) around a NullTarget with <c>formatMessage="true"</c>, the least any
    /// asynchronous target can cost on NLog; <c>null</c>, a NullTarget on the logging thread; <c>asynctask-null</c>,
    /// NLog's <c>AsyncTaskTarget</c> (the target's base class) with the target's hand-over settings, rendering each event
    /// and sending nothing (<see cref="NullTaskTarget"/>).</item>
    /// <item>COUNT events; RATE events per second (0: flat out; up to 1,000/s in bursts once a second, above in 10 ms slices).</item>
    /// <item><c>layout=default</c> (the target's default JSON, with scope properties: rendered on the logging thread) or
    /// <c>layout=agnostic</c> (time, level, message and event properties: thread-agnostic, the default here);
    /// <c>outage=1</c> (the stand-in answers 503 to everything); <c>warmup=SECONDS</c> (also prints the CPU from then until
    /// the logging loop ends: the steady state, after the runtime has compiled the code it runs); <c>warm=N</c> (N events
    /// logged and flushed before the measured ones, which are then measured alone: a burst in a process that has already
    /// sent, so without the one-time compiling of start-up; they arrive too); any FirehoseTarget option by its property name,
    /// e.g. <c>MaxQueueBytes=16777216</c>, <c>RecordPacking=true</c>; <c>quota=N</c> / <c>quotabytes=N</c> (the stand-in
    /// refuses records over N records or bytes per second, as Firehose's quota does; prints <c>quota_refused</c>);
    /// <c>callfaults=S</c> (the stand-in answers that share of calls with every record refused, a flaky backend);
    /// <c>flush=1</c> (a flush of up to 5 minutes after the logging loop, timed as <c>delivered_s</c>);
    /// <c>transport=none</c> (no HTTP: the body and its hash only, see <see cref="NoNetworkClient"/>); <c>internallog=Debug</c> (NLog's InternalLogger at that level on stderr); <c>quotachange=S:R[:B]</c> (the quota
    /// becomes R records / B bytes per second S seconds in); <c>timeline=1</c> (delivered/throttled per second).</item>
    /// </list>
    /// </summary>
    internal static class ProcessRun
    {
        private static readonly string Pad = new string('p', 100);

        /// <summary>The orchestrating side: the stand-in process, the application process, one line of results.</summary>
        public static void Run(TextWriter output, string[] args)
        {
            using var standIn = StandInProcess.Start();
            var result = RunOnce(standIn, args[1..]);
            output.WriteLine($"{string.Join(' ', args[1..])}: {result.Line}");
        }

        /// <summary>
        /// One application process against <paramref name="standIn"/> (<c>TARGET COUNT [RATE] [key=value…]</c>); its results
        /// by name (cpu_ms, logging_s, arrived, distinct…) and as one line.
        /// </summary>
        public static (Dictionary<string, string> Values, string Line) RunOnce(StandInProcess standIn, string[] args)
        {
            var options = Options(args, 2);
            if (options.TryGetValue("outage", out var outage) && outage == "1")
                standIn.Command("outage");
            bool callFaults = options.TryGetValue("callfaults", out var callFaultShare);
            if (callFaults)
                standIn.Command("callfaults " + callFaultShare);
            bool quota = options.TryGetValue("quota", out var quotaRecords) | options.TryGetValue("quotabytes", out var quotaBytes);
            long refusedBefore = quota ? standIn.QuotaRefused() : 0;
            if (quota)
                standIn.Command($"quota {quotaRecords ?? "0"} {quotaBytes ?? "0"}");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
            start.ArgumentList.Add(typeof(ProcessRun).Assembly.Location);
            start.ArgumentList.Add("app");
            start.ArgumentList.Add(standIn.Url.ToString());
            foreach (string arg in args)
                start.ArgumentList.Add(arg);
            string result;
            var standInCpuBefore = standIn.Cpu;
            System.Threading.Tasks.Task changed = System.Threading.Tasks.Task.CompletedTask;
            using (var app = Process.Start(start) ?? throw new InvalidOperationException("the application process did not start"))
            {
                if (options.TryGetValue("quotachange", out var change)) // S:RECORDS[:BYTES]: the stream's quota changes S seconds in
                {
                    string[] parts = change.Split(':');
                    changed = System.Threading.Tasks.Task.Delay(TimeSpan.FromSeconds(double.Parse(parts[0], CultureInfo.InvariantCulture)))
                        .ContinueWith(_ => standIn.Command($"quota {parts[1]} {(parts.Length > 2 ? parts[2] : "0")}"), System.Threading.Tasks.TaskScheduler.Default);
                }
                result = app.StandardOutput.ReadToEnd();
                app.WaitForExit();
            }
            changed.Wait();
            double standInCpu = (standIn.Cpu - standInCpuBefore).TotalMilliseconds;
            var (events, distinct, violations) = standIn.TakeDistinctCount();
            if (outage == "1" || quota || callFaults)
                standIn.Command("clear");
            string refused = quota ? FormattableString.Invariant($" quota_refused={standIn.QuotaRefused() - refusedBefore}") : string.Empty;
            string line = FormattableString.Invariant($"{result.Trim()} arrived={events} distinct={distinct}{refused} standin_cpu_ms={standInCpu:0} violations={violations}");
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string part in line.Split(' '))
            {
                int eq = part.IndexOf('=');
                if (eq > 0)
                    values[part.Substring(0, eq)] = part.Substring(eq + 1);
            }
            return (values, line);
        }

        /// <summary>The application's side: <c>app URL TARGET COUNT [RATE] [key=value…]</c>.</summary>
        public static void App(TextWriter output, string[] args)
        {
            string url = args[1];
            string kind = args[2];
            int count = int.Parse(args[3], CultureInfo.InvariantCulture);
            double rate = args.Length > 4 && !args[4].Contains('=') ? double.Parse(args[4], CultureInfo.InvariantCulture) : 0;
            var options = Options(args, 4);
            Layout layout = options.TryGetValue("layout", out var l) && l == "default" ? new FirehoseTarget().Layout : AgnosticLayout();

            FirehoseTarget? firehose = null;
            Targets.Target target;
            if (kind == "firehose")
            {
                firehose = new FirehoseTarget { Name = "fh", DeliveryStreamName = "app-logs", Region = "us-east-1", ServiceUrl = url, Layout = layout };
                foreach (var option in options)
                {
                    var property = typeof(FirehoseTarget).GetProperty(option.Key, System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic);
                    if (property != null)
                        property.SetValue(firehose, property.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse(option.Value, CultureInfo.InvariantCulture) : Convert.ChangeType(option.Value, property.PropertyType, CultureInfo.InvariantCulture));
                }
                if (options.TryGetValue("transport", out var transport) && transport == "none")
                    firehose.Seams.ClientFactory = _ => new NoNetworkClient();
                target = firehose;
            }
            else if (kind == "async-null")
            {
                target = new AsyncTargetWrapper(new Targets.NullTarget("null") { FormatMessage = true, Layout = layout })
                {
                    Name = "async",
                    QueueLimit = 200_000,
                    OverflowAction = AsyncTargetWrapperOverflowAction.Block,
                    BatchSize = 1000,
                    TimeToSleepBetweenBatches = 1,
                };
            }
            else if (kind == "asynctask-null")
            {
                var task = new NullTaskTarget { Name = "task", Layout = layout };
                if (options.TryGetValue("queueLimit", out var queueLimit)) // NLog's queue, 2,000 as the target sets it while it runs
                    task.QueueLimit = int.Parse(queueLimit, CultureInfo.InvariantCulture);
                if (options.TryGetValue("batchSize", out var batchSize))
                    task.BatchSize = int.Parse(batchSize, CultureInfo.InvariantCulture);
                if (options.TryGetValue("taskDelayMilliseconds", out var delay))
                    task.TaskDelayMilliseconds = int.Parse(delay, CultureInfo.InvariantCulture);
                target = task;
            }
            else
            {
                target = new Targets.NullTarget("null") { FormatMessage = true, Layout = layout };
            }
            if (options.TryGetValue("internallog", out var internalLog)) // e.g. internallog=Info: the target's own lines on stderr
            {
                NLog.Common.InternalLogger.LogLevel = LogLevel.FromString(internalLog);
                NLog.Common.InternalLogger.LogToConsoleError = true;
            }
            LogManager.Setup().LoadConfiguration(c => c.ForLogger().WriteTo(target));
            var logger = LogManager.GetLogger("App");

            var process = Process.GetCurrentProcess();
            int warmCount = options.TryGetValue("warm", out var wc) ? int.Parse(wc, CultureInfo.InvariantCulture) : 0;
            for (int i = 0; i < warmCount; i++)
                logger.Info("event {seq} {pad}", -1 - i, Pad);
            if (warmCount > 0)
                LogManager.Flush(TimeSpan.FromSeconds(60));
            long poolBefore = System.Threading.ThreadPool.CompletedWorkItemCount;
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var systemBefore = process.PrivilegedProcessorTime;
            var jitBefore = (System.Runtime.JitInfo.GetCompilationTime(), System.Runtime.JitInfo.GetCompiledMethodCount());
            var gcBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes(true));
            var clock = Stopwatch.StartNew();
            var timeline = new System.Text.StringBuilder();
            using var sampler = firehose is null || !options.ContainsKey("timeline") ? null : StartTimeline(firehose, timeline);
            double slice = rate <= 0 ? 0 : rate <= 1000 ? 1.0 : 0.01; // seconds per paced slice
            int perSlice = rate <= 0 ? count : Math.Max(1, (int)Math.Round(rate * slice));
            double warmup = options.TryGetValue("warmup", out var w) ? double.Parse(w, CultureInfo.InvariantCulture) : -1;
            TimeSpan cpuWarm = TimeSpan.Zero;
            double warmAt = 0;
            int warmEvents = -1;
            var jitWarm = (TimeSpan.Zero, 0L);
            for (int i = 0; i < count; i++)
            {
                if (warmEvents < 0 && warmup >= 0 && clock.Elapsed.TotalSeconds >= warmup)
                {
                    process.Refresh();
                    cpuWarm = process.TotalProcessorTime;
                    warmAt = clock.Elapsed.TotalSeconds;
                    warmEvents = i;
                    jitWarm = (System.Runtime.JitInfo.GetCompilationTime(), System.Runtime.JitInfo.GetCompiledMethodCount());
                }
                logger.Info("event {seq} {pad}", i, Pad);
                if (rate > 0 && (i + 1) % perSlice == 0)
                {
                    double due = (i + 1) / rate;
                    double wait = due - clock.Elapsed.TotalSeconds;
                    if (wait > 0)
                        System.Threading.Thread.Sleep(TimeSpan.FromSeconds(wait));
                }
            }
            var logged = clock.Elapsed;
            process.Refresh();
            var cpuLogged = process.TotalProcessorTime;
            var jitLogged = (System.Runtime.JitInfo.GetCompilationTime(), System.Runtime.JitInfo.GetCompiledMethodCount());
            string flushed = string.Empty;
            if (options.TryGetValue("flush", out var flush) && flush == "1")
            {
                LogManager.Flush(TimeSpan.FromMinutes(5)); // every event delivered (a throttled stream: at its quota's pace)
                flushed = FormattableString.Invariant($" delivered_s={clock.Elapsed.TotalSeconds:0.00}");
            }
            string steady = warmEvents < 0 ? string.Empty : FormattableString.Invariant(
                $" steady_cpu_ms_per_s={(cpuLogged - cpuWarm).TotalMilliseconds / (logged.TotalSeconds - warmAt):0.0} steady_us_per_event={(cpuLogged - cpuWarm).TotalMilliseconds * 1000 / (count - warmEvents):0.00} steady_jit_ms={(jitLogged.Item1 - jitWarm.Item1).TotalMilliseconds:0} steady_jit_methods={jitLogged.Item2 - jitWarm.Item2}");
            sampler?.Dispose();
            LogManager.Shutdown();
            var total = clock.Elapsed;
            process.Refresh();
            double cpu = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds;
            double system = (process.PrivilegedProcessorTime - systemBefore).TotalMilliseconds;
            string counts = firehose is null ? string.Empty
                : $" handed={firehose.Statistics.HandedOverEvents} hand_overs={firehose.Statistics.HandOvers} delivered={firehose.Statistics.DeliveredEvents} nlog_drops={firehose.Statistics.NLogQueueDroppedEvents} buffer_drops={firehose.Statistics.QueueDroppedEvents} undelivered={firehose.Statistics.UndeliveredAtClose} restarts={firehose.Statistics.HandOverRestarts} rearms={firehose.Statistics.HandOverRearms} calls={firehose.Statistics.Calls} records_accepted={firehose.Statistics.Records} event_bytes={firehose.Statistics.EventBytes}"
                    + (timeline.Length > 0 ? " per_second=" + timeline : string.Empty);
            output.WriteLine(FormattableString.Invariant(
                $"cpu_ms={cpu:0} system_ms={system:0} cpu_us_per_event={cpu * 1000 / count:0.00} peak_ws_mb={process.PeakWorkingSet64 / 1048576.0:0} logging_s={logged.TotalSeconds:0.00}{flushed} total_s={total.TotalSeconds:0.00} gc2={GC.CollectionCount(2)} gc0={GC.CollectionCount(0) - gcBefore.Item1} gc1={GC.CollectionCount(1) - gcBefore.Item2} gc_pause_ms={(GC.GetTotalPauseDuration() - gcBefore.Item3).TotalMilliseconds:0} alloc_mb={(GC.GetTotalAllocatedBytes(true) - gcBefore.Item4) / 1048576.0:0}{steady} pool_items_per_s={(System.Threading.ThreadPool.CompletedWorkItemCount - poolBefore) / total.TotalSeconds:0} jit_ms={(System.Runtime.JitInfo.GetCompilationTime() - jitBefore.Item1).TotalMilliseconds:0} jit_methods={System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore.Item2} (setup {jitBefore.Item1.TotalMilliseconds:0} ms, {jitBefore.Item2}){counts}"));
        }

        /// <summary>
        /// <c>timeline=1</c>: each second, the events the target delivered and the records Firehose throttled in it
        /// (<c>per_second=delivered/throttled,…</c>), to see a quota followed.
        /// </summary>
        private static System.Threading.Timer StartTimeline(FirehoseTarget firehose, System.Text.StringBuilder timeline)
        {
            long delivered = 0, throttled = 0;
            return new System.Threading.Timer(_ =>
            {
                long d = firehose.Statistics.DeliveredEvents, t = firehose.Statistics.Throttles;
                lock (timeline)
                    timeline.Append(timeline.Length > 0 ? "," : string.Empty).Append(CultureInfo.InvariantCulture, $"{d - delivered}/{t - throttled}");
                (delivered, throttled) = (d, t);
            }, null, 1000, 1000);
        }

        private static JsonLayout AgnosticLayout()
        {
            var layout = new JsonLayout { IncludeEventProperties = true };
            layout.Attributes.Add(new JsonAttribute("time", "${date:universalTime=true:format=o}"));
            layout.Attributes.Add(new JsonAttribute("level", "${level:upperCase=true}"));
            layout.Attributes.Add(new JsonAttribute("message", "${message}"));
            return layout;
        }

        private static Dictionary<string, string> Options(string[] args, int from)
        {
            var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            for (int i = from; i < args.Length; i++)
            {
                int eq = args[i].IndexOf('=');
                if (eq > 0)
                    options[args[i].Substring(0, eq)] = args[i].Substring(eq + 1);
            }
            return options;
        }
    }
}
