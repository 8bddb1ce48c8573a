using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using NLog.Targets.Firehose.StandIn;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// The loopback stand-in in a process of its own, so the end-to-end figures do not pay for the stand-in's work
    /// (parsing, base64 decoding, storing) in the measured process; and, as the set-up has it, a service that
    /// parses nothing while the application runs: with no fault set, calls are answered once their records are counted
    /// and checked (signature, body, limits) and stored when the events are counted (<c>distinct</c>). Protocol on its standard input and output:
    /// it prints its URL, then answers <c>count</c> with the events (lines) it stored since the last <c>count</c>,
    /// <c>distinct</c> with those and how many of them are distinct, and
    /// <c>calls</c> with the requests it received, <c>outage</c> / <c>clear</c> / <c>quota R [B]</c> / <c>callfaults SHARE</c> with <c>ok</c>.
    /// </summary>
    internal sealed class StandInProcess : IDisposable
    {
        private readonly Process _process;

        private StandInProcess(Process process, Uri url)
        {
            _process = process;
            Url = url;
        }

        public Uri Url { get; }

        /// <summary>The stand-in process's CPU so far (user + system): on a machine of few cores it competes with the application's.</summary>
        public TimeSpan Cpu
        {
            get
            {
                _process.Refresh();
                return _process.TotalProcessorTime;
            }
        }

        /// <summary>
        /// Whether the stand-in yields the cores to every other process (nice 19): on a machine of few cores it then takes
        /// only CPU the service leaves idle, as an endpoint on other machines takes none of the service's.
        /// </summary>
        public bool Yielding
        {
            set => _process.PriorityClass = value ? ProcessPriorityClass.Idle : ProcessPriorityClass.Normal;
        }

        public static StandInProcess Start()
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            start.ArgumentList.Add(typeof(StandInProcess).Assembly.Location);
            start.ArgumentList.Add("serve");
            var process = Process.Start(start) ?? throw new InvalidOperationException("the stand-in process did not start");
            string url = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the stand-in process said nothing");
            return new StandInProcess(process, new Uri(url));
        }

        /// <summary>Sends a command: <c>outage</c> (every call answered 503 from now on) or <c>clear</c> (faults off).</summary>
        public void Command(string command)
        {
            _process.StandardInput.WriteLine(command);
            _process.StandardOutput.ReadLine();
        }

        /// <summary>
        /// Events stored since the last call, how many of them are distinct (an event stored twice counts once), and the
        /// protocol violations the stand-in saw so far (its checks of the calls it answered unchecked run first).
        /// </summary>
        public (long Events, long Distinct, int Violations) TakeDistinctCount()
        {
            _process.StandardInput.WriteLine("distinct");
            string[] parts = _process.StandardOutput.ReadLine()!.Split(' ');
            return (long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
        }

        /// <summary>Records refused so far for being over the stream's quota.</summary>
        public long QuotaRefused()
        {
            _process.StandardInput.WriteLine("refused");
            return long.Parse(_process.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
        }

        /// <summary>Requests the stand-in received so far (calls, and the warm-up's).</summary>
        public long Calls()
        {
            _process.StandardInput.WriteLine("calls");
            return long.Parse(_process.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
        }

        /// <summary>Events stored since the last call.</summary>
        public long TakeCount()
        {
            _process.StandardInput.WriteLine("count");
            return long.Parse(_process.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000))
                _process.Kill();
            _process.Dispose();
        }

        /// <summary>
        /// Sends the stand-in calls from a target in this process until the runtime has compiled what serving them runs
        /// (a round of 50,000 events costs less than 20 ms of compiling), then forgets them. The stand-in stands for a
        /// service that runs elsewhere and is long warm: cold, its own compiling took ~3.7 s of CPU during a measured
        /// 500,000-event burst, on the same two cores as the application, which the baseline (no calls) never shares.
        /// </summary>
        private static void WarmUp(FirehoseStandIn standIn)
        {
            var factory = new LogFactory();
            var target = new FirehoseTarget { Name = "warm", DeliveryStreamName = "app-logs", Region = "us-east-1", ServiceUrl = standIn.Url.ToString() };
            var config = new NLog.Config.LoggingConfiguration(factory);
            config.AddRuleForAllLevels(target);
            factory.Configuration = config;
            var logger = factory.GetLogger("warm-up");
            string pad = new string('w', 100);
            for (int round = 0; round < 20; round++)
            {
                var compiling = System.Runtime.JitInfo.GetCompilationTime();
                for (int i = 0; i < 50_000; i++)
                    logger.Info("warm-up {seq} {pad}", i, pad);
                factory.Flush(TimeSpan.FromSeconds(60));
                if (round >= 2 && (System.Runtime.JitInfo.GetCompilationTime() - compiling).TotalMilliseconds < 20)
                    break;
            }
            factory.Shutdown();
            standIn.CompleteDeferredChecks();
            standIn.ClearRecords();
        }

        /// <summary>The child's side: <c>serve</c>.</summary>
        public static void Serve(TextReader input, TextWriter output)
        {
            var standIn = FirehoseStandIn.StartAsync().GetAwaiter().GetResult();
            standIn.CreateStream("app-logs");
            standIn.DeferChecks = true; // parses nothing while the application runs (the set-up); checked when counted
            WarmUp(standIn);
            output.WriteLine(standIn.Url);
            output.Flush();
            string? line;
            while ((line = input.ReadLine()) != null)
            {
                if (line.StartsWith("quota ", StringComparison.Ordinal))
                {
                    // quota RECORDS_PER_SECOND [BYTES_PER_SECOND]: the stream's quota (0: none), changeable mid-run
                    string[] parts = line.Split(' ');
                    standIn.Faults.QuotaRecordsPerSecond = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
                    standIn.Faults.QuotaBytesPerSecond = parts.Length > 2 ? long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) : 0;
                    output.WriteLine("ok");
                    output.Flush();
                    continue;
                }
                if (line.StartsWith("callfaults ", StringComparison.Ordinal))
                {
                    // callfaults SHARE: that share of calls answered 200 with every record refused (a flaky backend)
                    standIn.Faults.FailedCallRate = double.Parse(line.Substring(11), System.Globalization.CultureInfo.InvariantCulture);
                    output.WriteLine("ok");
                    output.Flush();
                    continue;
                }
                if (line == "calls")
                {
                    output.WriteLine(standIn.Requests.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    output.Flush();
                    continue;
                }
                if (line == "refused")
                {
                    output.WriteLine(standIn.QuotaRefusedRecords.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    output.Flush();
                    continue;
                }
                if (line == "outage" || line == "clear")
                {
                    if (line == "outage")
                        standIn.Faults.BeginOutage(TimeSpan.FromDays(1));
                    else
                        standIn.Faults.Clear();
                    output.WriteLine("ok");
                    output.Flush();
                    continue;
                }
                standIn.CompleteDeferredChecks();
                int violations = standIn.Violations.Count;
                long lines = 0;
                var distinct = new HashSet<string>(StringComparer.Ordinal);
                foreach (var record in standIn.Records("app-logs"))
                {
                    int start = 0;
                    for (int i = 0; i < record.Length; i++)
                    {
                        if (record[i] != (byte)'\n')
                            continue;
                        lines++;
                        distinct.Add(System.Text.Encoding.UTF8.GetString(record, start, i - start));
                        start = i + 1;
                    }
                }
                standIn.ClearRecords();
                output.WriteLine(line == "distinct" ? lines + " " + distinct.Count + " " + violations : lines.ToString(System.Globalization.CultureInfo.InvariantCulture));
                output.Flush();
            }
            standIn.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
