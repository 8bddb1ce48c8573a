using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NLog.Targets.Firehose.Tests.Support
{
    /// <summary>Runs a program to its end and gives back its exit code and output (stdout and stderr, as they came).</summary>
    internal static class ProcessRunner
    {
        /// <summary>The repository's root: the test assembly runs from …/NLog.Targets.Firehose.Tests/bin/{Configuration}/{framework}/.</summary>
        public static string RepositoryRoot => TestOutput.Parent!.Parent!.Parent!.Parent!.FullName;

        /// <summary>The build configuration the tests run in (Debug, Release).</summary>
        public static string Configuration => TestOutput.Parent!.Name;

        private static DirectoryInfo TestOutput => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));

        /// <summary>
        /// Runs <paramref name="file"/>; <paramref name="environment"/> sets (or, with a null value, removes) variables.
        /// Fails the test when it does not end within <paramref name="timeout"/>.
        /// </summary>
        public static (int ExitCode, string Output) Run(string file, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout, IEnumerable<(string Name, string? Value)> environment)
        {
            var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments)
                start.ArgumentList.Add(argument);
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            start.Environment["DOTNET_NOLOGO"] = "1";
            foreach (var (name, value) in environment)
            {
                if (value is null)
                    start.Environment.Remove(name);
                else
                    start.Environment[name] = value;
            }
            using var process = Process.Start(start)!;
            var output = new StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine("stderr: " + e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit((int)timeout.TotalMilliseconds))
            {
                process.Kill(entireProcessTree: true);
                lock (output)
                    Assert.Fail($"{file} {string.Join(" ", arguments)} did not finish within {timeout.TotalSeconds:0} s:\n{output}");
            }
            process.WaitForExit();
            lock (output)
                return (process.ExitCode, output.ToString());
        }
    }
}
