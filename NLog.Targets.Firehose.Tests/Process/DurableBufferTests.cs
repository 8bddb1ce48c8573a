using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Durability;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>The durable buffer (<c>bufferDirectory</c>) over real HTTP to the stand-in, in this process and across a <c>kill -9</c>.</summary>
    [TestClass]
    [TestCategory(TestCategories.Process)]
    public sealed class DurableBufferTests
    {
        private TempDirectory _temp = null!;

        private string Root => _temp.Path;

        [TestInitialize]
        public void CreateDirectory() => _temp = new TempDirectory("fh-durable-");

        private readonly System.Collections.Generic.List<string> _configs = new System.Collections.Generic.List<string>();

        [TestCleanup]
        public void DeleteDirectory()
        {
            _temp.Dispose();
            foreach (string config in _configs)
                File.Delete(config); // they went to the temp folder, where they piled up run after run
        }

        private FirehoseTarget Target(FirehoseStandIn standIn)
        {
            var target = StandInHarness.Target(standIn);
            target.BufferDirectory = Root;
            target.Seams.CloseDrain = TimeSpan.FromMilliseconds(300);
            target.Seams.PauseBase = TimeSpan.FromMilliseconds(100);
            return target;
        }

        [TestMethod]
        public async Task Close_DuringOutage_EventsStayOnDiskAndTheNextStartDeliversThemOnceBeforeNewOnes()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.BeginOutage(TimeSpan.FromMinutes(10));
            var first = Target(standIn);
            using var capture = new InternalLogCapture(LogLevel.Warn);
            using (var factory = Harness.Factory(first))
            {
                var logger = factory.GetLogger("Durable");
                for (int i = 0; i < 2000; i++)
                    logger.Info("event {Seq}", i);
                // Closing clears NLog's own queue: wait until the target took every event (the outage holds them).
                Assert.IsTrue(SpinWait.SpinUntil(() => first.Statistics.HandedOverEvents == 2000, TimeSpan.FromSeconds(30)), "NLog handed every event over");
            }
            Assert.AreEqual(2000, first.Statistics.KeptOnDiskAtClose);
            Assert.AreEqual(0, first.Statistics.UndeliveredAtClose, "nothing is reported lost");
            StringAssert.Contains(capture.Text, "stay in the durable buffer");
            Assert.AreEqual(0, standIn.Records("app-logs").Count);

            standIn.Faults.Clear();
            var second = Target(standIn);
            second.MaxConcurrentRequests = 1; // one call at a time, so arrival order shows what was sent first
            using (var factory = Harness.Factory(second))
            {
                var logger = factory.GetLogger("Durable");
                for (int i = 2000; i < 2500; i++)
                    logger.Info("event {Seq}", i);
                factory.Flush();
            }

            var counts = StandInHarness.SequenceCounts(standIn, "app-logs");
            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(counts, 2500));
            var order = standIn.Records("app-logs").Select(r => JsonDocument.Parse(r).RootElement.GetProperty("Seq").GetInt32()).ToList();
            CollectionAssert.AreEqual(Enumerable.Range(0, 2000).ToList(), order.Take(2000).ToList(), "the recovered events go first, oldest first");
            Assert.AreEqual(0, second.Statistics.KeptOnDiskAtClose);
            Assert.AreEqual(0, Directory.GetFiles(Root).Length, "every segment was deleted once delivered");
        }

        [TestMethod]
        public async Task FaultMix_WithDurableBuffer_EveryEventOnceAndTheDirectoryEmptiedAfterwards()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            StandInHarness.InjectFaultMix(standIn);
            var target = Target(standIn);
            target.MaxBufferBytes = 16L * 1024 * 1024;
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Durable");
                for (int i = 0; i < 20_000; i++)
                    logger.Info("event {Seq}", i);
                factory.Flush(TimeSpan.FromSeconds(60));
            }

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 20_000));
            Assert.IsTrue(target.IsBufferingToDisk is false, "closed");
            Assert.AreEqual(0, Directory.GetFiles(Root).Length);
        }

        [TestMethod]
        public async Task DirectoryCannotBeWritten_FallsBackToMemorySaysSoOnceAndKeepsDelivering()
        {
            Directory.CreateDirectory(Root);
            string file = Path.Combine(Root, "a-file");
            File.WriteAllText(file, "a file where the target expects a directory");
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            var target = Target(standIn);
            target.BufferDirectory = Path.Combine(file, "buffer");
            using var capture = new InternalLogCapture(LogLevel.Warn);
            using (var factory = Harness.Factory(target))
            {
                Assert.IsFalse(target.IsBufferingToDisk);
                var logger = factory.GetLogger("Durable");
                for (int i = 0; i < 1000; i++)
                    logger.Info("event {Seq}", i);
                factory.Flush();
            }

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 1000));
            Assert.AreEqual(1, capture.Text.Split("keeping events in memory only").Length - 1, capture.Text);
        }

        [TestMethod]
        public async Task TwoTargetsShareTheDirectory_NeitherCorruptsNorTakesTheOthersEvents()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.FailedRecordRate = 0.2;
            var a = Target(standIn);
            var b = Target(standIn);
            using (var factoryA = Harness.Factory(a))
            using (var factoryB = Harness.Factory(b))
            {
                var loggerA = factoryA.GetLogger("A");
                var loggerB = factoryB.GetLogger("B");
                Parallel.For(0, 2, side =>
                {
                    for (int i = 0; i < 5000; i++)
                        (side == 0 ? loggerA : loggerB).Info("event {Seq}", side * 5000 + i);
                });
                factoryA.Flush();
                factoryB.Flush();
                Assert.AreEqual(2, Directory.GetFiles(Root, "*.seg").Length, "each has its own segment");
            }

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 10_000));
            Assert.AreEqual(0, Directory.GetFiles(Root).Length);
        }

        [TestMethod]
        public async Task KilledDuringAnOutage_RestartAfterwardsDeliversEveryEventItLoggedExactlyOnce()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.BeginOutage(TimeSpan.FromMinutes(10));
            const int count = 5000;

            using (var child = ChildProcess.Start(WriteConfig(standIn, flushInterval: "0.2"), count))
            {
                child.WaitForOutput("LOGGED " + count);
                WaitUntilOnDisk(count, child);
                child.Kill();
            }
            Assert.AreEqual(0, standIn.Records("app-logs").Count, "nothing got through the outage");

            standIn.Faults.Clear();
            using (var factory = Harness.Factory(Target(standIn)))
                factory.Flush();

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), count));
            Assert.AreEqual(0, Directory.GetFiles(Root).Length);
        }

        [TestMethod]
        public async Task KilledAKnownTimeAfterTheLastHandOver_EveryEventOlderThanTheFlushIntervalComesBack()
        {
            // bufferFlushInterval's promise, without looking at the files first: the child kills itself 20 intervals after
            // the target took its last event (a starved machine may run the flush timer seconds late); everything handed
            // over at least one interval before the kill must survive.
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.BeginOutage(TimeSpan.FromMinutes(10));
            const int count = 3000; // ~600 KB of frames: far more than the file stream's own 64 KiB buffer
            const double interval = 0.5;

            using (var child = ChildProcess.Start(WriteConfig(standIn, flushInterval: "0.5"), count, 0, FormattableString.Invariant($"kill-after-taken:{20 * interval}")))
            {
                child.WaitForOutput("TAKEN " + count);
                child.WaitForExit();
            }
            Assert.AreEqual(0, standIn.Records("app-logs").Count, "nothing got through the outage");

            standIn.Faults.Clear();
            using (var factory = Harness.Factory(Target(standIn)))
                factory.Flush();

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), count));
        }

        [TestMethod]
        public async Task KilledWhileDelivering_RestartDeliversEverythingDuplicatingOnlyTheCallsInFlight()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.FailedRecordRate = 0.1;
            // From the tenth call on, calls are held unanswered until the kill: the child is killed while delivering, with
            // some records delivered and calls in flight, however fast or slow the machine.
            var faults = standIn.Faults;
            bool holding = true;
            standIn.RequestReceived += n => { if (n >= 10 && Volatile.Read(ref holding)) faults.ResponseDelay = TimeSpan.FromMinutes(10); };
            const int count = 30_000; // one segment (8 MiB): it stays on disk until the kill, so the test can see every record reach it
            const int maxConcurrentRequests = 2;

            using (var child = ChildProcess.Start(WriteConfig(standIn, flushInterval: "0.2", maxConcurrentRequests), count, eventsPerMillisecond: 20))
            {
                child.WaitForOutput("LOGGED " + count);
                WaitUntilOnDisk(count, child);
                Assert.IsTrue(standIn.Records("app-logs").Count < count, "killed while delivering");
                child.Kill();
            }
            int beforeKill = standIn.Records("app-logs").Count;
            Assert.IsTrue(beforeKill > 0, "some were delivered before the kill");

            Volatile.Write(ref holding, false);
            standIn.Faults.Clear();
            using (var factory = Harness.Factory(Target(standIn)))
                factory.Flush();

            var counts = StandInHarness.SequenceCounts(standIn, "app-logs");
            var missing = Enumerable.Range(0, count).Where(i => !counts.ContainsKey(i)).ToList();
            Assert.AreEqual(0, missing.Count, $"missing {missing.Count}, first {string.Join(",", missing.Take(5))}");
            int duplicates = counts.Values.Sum(n => n - 1);
            Assert.IsTrue(duplicates <= maxConcurrentRequests * FirehoseLimits.MaxRecordsPerCall,
                $"{duplicates} duplicates: at most the records of the {maxConcurrentRequests} calls in flight at the kill");
        }

        private string WriteConfig(FirehoseStandIn standIn, string flushInterval, int maxConcurrentRequests = 8)
        {
            Directory.CreateDirectory(Root);
            string path = Path.Combine(Path.GetTempPath(), "fh-child-" + Guid.NewGuid().ToString("N") + ".config");
            _configs.Add(path);
            File.WriteAllText(path, $"""
                <nlog xmlns="http://www.nlog-project.org/schemas/NLog.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" throwConfigExceptions="true"
                      internalLogLevel="Warn" internalLogToConsoleError="true">
                  <extensions><add assembly="NLog.Targets.Firehose" /></extensions>
                  <targets>
                    <target xsi:type="KinesisFirehose" name="fh" deliveryStreamName="app-logs" region="us-east-1"
                            serviceUrl="{standIn.Url}" bufferDirectory="{Root}" bufferFlushInterval="{flushInterval}"
                            maxConcurrentRequests="{maxConcurrentRequests}" />
                  </targets>
                  <rules><logger name="*" minlevel="Trace" writeTo="fh" /></rules>
                </nlog>
                """);
            return path;
        }

        /// <summary>Waits until the segment files hold <paramref name="count"/> whole records (what a kill then leaves behind).</summary>
        private void WaitUntilOnDisk(int count, ChildProcess? child = null)
        {
            int found = 0;
            bool done = SpinWait.SpinUntil(() =>
            {
                found = 0;
                foreach (string file in Directory.GetFiles(Root, "*.seg"))
                {
                    byte[] content;
                    try
                    {
                        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                        content = new byte[stream.Length];
                        stream.ReadExactly(content);
                    }
                    catch (IOException)
                    {
                        continue; // deleted meanwhile: its records were all delivered
                    }
                    int offset = 0;
                    while (JournalFrame.TryRead(content, ref offset, out _, out _, out _))
                        found++;
                }
                return found >= count;
            }, TimeSpan.FromSeconds(60));
            Assert.IsTrue(done, $"only {found} of {count} records reached the segment files; files: {string.Join(", ", Directory.GetFiles(Root).Select(f => Path.GetFileName(f) + "=" + new FileInfo(f).Length))}; child said: {child?.Output}");
        }
    }
}
