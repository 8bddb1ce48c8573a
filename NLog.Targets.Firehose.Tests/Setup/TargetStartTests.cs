using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Diagnostics;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// Starting is all or nothing: the parts are built, then started one step at a time; when a step fails, the steps
    /// that had started are stopped in reverse, so a target that did not start leaves no thread, timer, open file, meter
    /// reading or SIGTERM registration in the application. Each of those is read from the process itself.
    /// </summary>
    [TestClass]
    public class TargetStartTests
    {
        private static readonly string[] Steps = { "journal", "meter", "recovery", "pipeline", "queue watch", "termination hook", "stream check" };

        /// <summary>The netstandard2.0 build has no SIGTERM hook (no <c>PosixSignalRegistration</c> there).</summary>
        private static bool HasSigtermHook =>
            typeof(FirehoseTarget).Assembly.GetCustomAttribute<System.Runtime.Versioning.TargetFrameworkAttribute>()?.FrameworkName.StartsWith(".NETCoreApp", StringComparison.Ordinal) == true;

        public static IEnumerable<object[]> EachStep => Steps.Select(step => new object[] { step });

        [TestMethod]
        public void Started_EveryResourceItHoldsIsSeen_AndGoneAfterClose()
        {
            using var directory = new TempDirectory("fh-start-");
            var before = Resources.Settled(directory.Path);
            var target = NewTarget(directory.Path, failAt: null, out var stepsRun);

            using (var factory = Harness.Factory(target))
            {
                var running = Resources.Take(directory.Path);
                CollectionAssert.AreEqual(Steps, stepsRun.ToArray());
                Assert.AreEqual(before.WatchThreads + 1, running.WatchThreads, $"{running} against {before}");
                Assert.IsTrue(running.FilesInDirectory > 0, running.ToString());
                Assert.AreEqual(before.SigtermRegistrations + (HasSigtermHook ? 1 : 0), running.SigtermRegistrations, $"{running} against {before}");
                Assert.IsTrue(running.MeterReadings > 0, running.ToString());
            }

            AssertNothingLeft(before, directory.Path, "after close");
        }

        [TestMethod]
        [DynamicData(nameof(EachStep))]
        public void StepFails_WhatStartedIsStoppedInReverse_NothingLeftBehind(string failing)
        {
            using var directory = new TempDirectory("fh-start-");
            using var log = new InternalLogCapture(LogLevel.Error);
            var before = Resources.Settled(directory.Path);
            var target = NewTarget(directory.Path, failing, out var stepsRun);

            using (var factory = Harness.Factory(target))
            {
                CollectionAssert.AreEqual(Steps.TakeWhile(s => s != failing).Append(failing).ToArray(), stepsRun.ToArray());
                AssertNothingLeft(before, directory.Path, "with the target's start failed at " + failing);
                factory.GetLogger("app").Info("logged while the target is not running"); // neither thrown at nor held
            }

            StringAssert.Contains(log.Text, "could not start");
            StringAssert.Contains(log.Text, "step failed: " + failing);
            AssertNothingLeft(before, directory.Path, "after close");
        }

        private static FirehoseTarget NewTarget(string directory, string? failAt, out List<string> stepsRun)
        {
            var steps = stepsRun = new List<string>();
            var target = Harness.Target(new RecordingClient());
            target.Name = "fh-start";
            target.BufferDirectory = directory;
            target.CheckStreamAtStartup = true;
            target.Seams.BeforeStartStep = step =>
            {
                steps.Add(step);
                if (step == failAt)
                    throw new InvalidOperationException("step failed: " + step);
            };
            return target;
        }

        private static void AssertNothingLeft(Resources before, string directory, string when)
        {
            // A stopped watch's thread ends a moment after its stop, and timers of earlier tests may run out meanwhile: a
            // thread or timer left by this target keeps its count above.
            SpinWait.SpinUntil(() => Timer.ActiveCount <= before.Timers && Resources.Take(directory).WatchThreads <= before.WatchThreads, TimeSpan.FromSeconds(5));
            var after = Resources.Take(directory);
            Assert.IsTrue(after.Timers <= before.Timers, $"{when}: a timer is left: {after} against {before}");
            Assert.AreEqual(before.WatchThreads, after.WatchThreads, $"{when}: a thread is left: {after}");
            Assert.AreEqual(0, after.FilesInDirectory, $"{when}: a file is left open: {after}");
            Assert.AreEqual(before.SigtermRegistrations, after.SigtermRegistrations, $"{when}: a SIGTERM registration is left: {after}");
            Assert.AreEqual(0, after.MeterReadings, $"{when}: the meter still reads the target: {after}");
        }

        /// <summary>What a started target holds, read from the process (Linux's /proc, the runtime, a meter listener).</summary>
        private sealed class Resources
        {
            public long Timers { get; private init; }

            public int WatchThreads { get; private init; }

            public int FilesInDirectory { get; private init; }

            public int SigtermRegistrations { get; private init; }

            public int MeterReadings { get; private init; }

            /// <summary>Once the hand-over watches of earlier tests' targets have ended (their threads end soon after a close).</summary>
            public static Resources Settled(string directory)
            {
                SpinWait.SpinUntil(() => Take(directory).WatchThreads == 0, TimeSpan.FromSeconds(10));
                return Take(directory);
            }

            public static Resources Take(string directory) => new Resources
            {
                Timers = Timer.ActiveCount,
                // Linux keeps the first 15 characters of a thread's name.
                WatchThreads = Directory.GetDirectories("/proc/self/task").Count(task => ReadName(task).StartsWith("NLog.Targets.Fi", StringComparison.Ordinal)),
                FilesInDirectory = Directory.GetFiles("/proc/self/fd").Count(fd => LinkTarget(fd)?.StartsWith(directory, StringComparison.Ordinal) == true),
                SigtermRegistrations = CountSignalRegistrations(),
                MeterReadings = ReadMeter("fh-start"),
            };

            public override string ToString() =>
                $"timers {Timers}, watch threads {WatchThreads}, files open in the directory {FilesInDirectory}, signal registrations {SigtermRegistrations}, meter readings {MeterReadings}";

            private static string ReadName(string task)
            {
                try
                {
                    return File.ReadAllText(Path.Combine(task, "comm")).Trim();
                }
                catch (IOException)
                {
                    return ""; // the thread ended meanwhile
                }
            }

            private static string? LinkTarget(string fd)
            {
                try
                {
                    return new FileInfo(fd).LinkTarget;
                }
                catch (IOException)
                {
                    return null; // closed meanwhile
                }
            }

            /// <summary>The runtime's table of signal registrations (what <c>PosixSignalRegistration.Create</c> adds to).</summary>
            private static int CountSignalRegistrations()
            {
                var field = typeof(PosixSignalRegistration).GetField("s_registrations", BindingFlags.NonPublic | BindingFlags.Static);
                Assert.IsNotNull(field, "the runtime keeps its signal registrations elsewhere now: read them there");
                var table = (IDictionary)field!.GetValue(null)!;
                lock (table)
                    return table.Values.Cast<ICollection>().Sum(tokens => tokens.Count);
            }

            private static int ReadMeter(string targetName)
            {
                int readings = 0;
                using var listener = new MeterListener
                {
                    InstrumentPublished = (instrument, l) =>
                    {
                        if (instrument.Meter.Name == FirehoseMetrics.MeterName)
                            l.EnableMeasurementEvents(instrument);
                    },
                };
                listener.SetMeasurementEventCallback<long>((_, _, tags, _) => Count(tags));
                listener.SetMeasurementEventCallback<double>((_, _, tags, _) => Count(tags));
                listener.Start();
                listener.RecordObservableInstruments();
                return readings;

                void Count(ReadOnlySpan<KeyValuePair<string, object?>> tags)
                {
                    foreach (var tag in tags)
                    {
                        if (tag.Key == "target" && Equals(tag.Value, targetName))
                            readings++;
                    }
                }
            }
        }
    }
}
