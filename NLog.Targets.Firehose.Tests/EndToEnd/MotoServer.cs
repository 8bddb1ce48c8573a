using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NLog.Targets.Firehose.Tests.Support
{
    /// <summary>
    /// Runs <c>moto_server</c> on a free loopback port for one test. Where it is missing the test is Inconclusive, or
    /// fails when <c>FIREHOSE_REQUIRE_MOTO=1</c> (as CI sets).
    /// </summary>
    internal sealed class MotoServer : IDisposable
    {
        private readonly Process _process;

        private MotoServer(Process process, Uri url)
        {
            _process = process;
            Url = url;
        }

        public Uri Url { get; }

        public static MotoServer Start()
        {
            string? executable = FindOnPath("moto_server");
            if (executable is null || FindOnPath("python3") is null)
            {
                string reason = "moto_server (and python3 with boto3) is not on PATH; the end-to-end test needs the moto AWS emulator.";
                if (Environment.GetEnvironmentVariable("FIREHOSE_REQUIRE_MOTO") == "1")
                    Assert.Fail(reason + " FIREHOSE_REQUIRE_MOTO=1 makes this a failure.");
                Assert.Inconclusive(reason);
            }

            // A port taken between FreePort and moto's bind makes it exit at once: then once more on another port. On a
            // busy machine its Python start-up can take long: up to 3 minutes, and what it said goes into the failure.
            var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
            for (int attempt = 1; ; attempt++)
            {
                int port = FreePort();
                var start = new ProcessStartInfo(executable!, $"-H 127.0.0.1 -p {port}")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                var process = Process.Start(start) ?? throw new InvalidOperationException("moto_server did not start");
                using var ready = new ManualResetEventSlim();
                DataReceivedEventHandler onLine = (_, e) =>
                {
                    if (e.Data is null)
                        return;
                    said.Enqueue(e.Data);
                    if (e.Data.Contains("Running on", StringComparison.Ordinal))
                        ready.Set();
                };
                process.OutputDataReceived += onLine;
                process.ErrorDataReceived += onLine;
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                var waited = Stopwatch.StartNew();
                while (!ready.Wait(TimeSpan.FromMilliseconds(200)) && !process.HasExited && waited.Elapsed < TimeSpan.FromMinutes(3))
                {
                }
                if (ready.IsSet)
                    return new MotoServer(process, new Uri($"http://127.0.0.1:{port}"));
                bool exited = process.HasExited;
                Kill(process);
                if (exited && attempt < 2)
                    continue;
                Assert.Fail($"moto_server did not report that it was running ({(exited ? "it exited" : "3 minutes")}); it said: {string.Join(" | ", said)}");
            }
        }

        /// <summary>Runs the boto3 helper; returns its standard output.</summary>
        public string Helper(params string[] args)
        {
            string script = Path.Combine(AppContext.BaseDirectory, "moto_helper.py");
            var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(script);
            foreach (var arg in args)
                start.ArgumentList.Add(arg);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(120_000))
            {
                Kill(process);
                Assert.Fail("moto_helper.py " + string.Join(" ", args) + " took longer than 120 s");
            }
            Assert.AreEqual(0, process.ExitCode, "moto_helper.py " + string.Join(" ", args) + " failed: " + stderr.Result);
            return stdout.Trim();
        }

        public void Dispose() => Kill(_process);

        private static void Kill(Process process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            process.Dispose();
        }

        private static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        private static string? FindOnPath(string name)
        {
            return (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Select(dir => Path.Combine(dir, name))
                .FirstOrDefault(File.Exists);
        }
    }
}
