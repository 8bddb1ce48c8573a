using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NLog.Targets.Firehose.Tests.Support
{
    /// <summary>The crash-test child (<c>NLog.Targets.Firehose.Tests.Child</c>) as a separate process.</summary>
    internal sealed class ChildProcess : IDisposable
    {
        private readonly Process _process;
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new System.Collections.Concurrent.ConcurrentQueue<string>();

        private ChildProcess(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) => { if (e.Data != null) _output.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) _output.Enqueue("stderr: " + e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public static ChildProcess Start(string configPath, int count, int eventsPerMillisecond = 0, params (string Name, string? Value)[] environment) =>
            Start(configPath, count, eventsPerMillisecond, "wait", environment);

        /// <summary>
        /// Starts the child in a mode (see the child's Program): <c>wait</c> for the test's kill, <c>kill-after-taken:SECONDS</c>
        /// (SIGKILL that long after its target took the last event; it prints <c>TAKEN n</c> then), or <c>return</c> from Main
        /// without Shutdown.
        /// </summary>
        public static ChildProcess Start(string configPath, int count, int eventsPerMillisecond, string mode, params (string Name, string? Value)[] environment)
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "NLog.Targets.Firehose.Tests.Child.dll");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(dll);
            start.ArgumentList.Add(configPath);
            start.ArgumentList.Add(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            start.ArgumentList.Add(eventsPerMillisecond.ToString(System.Globalization.CultureInfo.InvariantCulture));
            start.ArgumentList.Add(mode);
            foreach (var (name, value) in environment)
                start.Environment[name] = value;
            return new ChildProcess(Process.Start(start) ?? throw new InvalidOperationException("the child process did not start"));
        }

        public string Output => string.Join(" | ", _output);

        public void WaitForOutput(string line)
        {
            SpinWait.SpinUntil(() => _output.Contains(line) || _process.HasExited, TimeSpan.FromSeconds(120));
            if (_process.HasExited)
                _process.WaitForExit(); // its last output lines are read to the end
            Assert.IsTrue(_output.Contains(line), $"the child did not say '{line}': {string.Join(" | ", _output)}");
        }

        /// <summary>Waits until the child ended by itself.</summary>
        public void WaitForExit()
        {
            Assert.IsTrue(_process.WaitForExit(120_000), $"the child did not end: {string.Join(" | ", _output)}");
            _process.WaitForExit(); // its last output lines are read to the end
        }

        /// <summary>
        /// SIGTERM, as <c>docker stop</c> or Kubernetes sends it. NLog does not close its targets then (the SIGTERM tests
        /// find the target's own "SIGTERM: …" line, never NLog's close): only the target's hook (<c>TerminationHook</c>)
        /// delivers before the process ends.
        /// </summary>
        public void Terminate()
        {
            using var kill = Process.Start("kill", new[] { "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) })!;
            kill.WaitForExit();
            WaitForExit();
        }

        /// <summary>The child's exit code, once it ended.</summary>
        public int ExitCode => _process.ExitCode;

        /// <summary>SIGKILL on Unix (TerminateProcess on Windows): no handler runs, nothing is flushed.</summary>
        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
                Kill();
            _process.Dispose();
        }
    }
}
