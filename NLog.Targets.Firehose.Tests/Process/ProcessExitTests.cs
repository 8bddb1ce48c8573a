using System;
using System.IO;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// An application that ends without <c>LogManager.Shutdown()</c>, in a real child process: it returns from Main right
    /// after a burst, or gets SIGTERM. NLog then closes the target without flushing and clears its own hand-over queue; the
    /// target takes that queue first, so every event is delivered in the close drain, or counted and reported, or (with
    /// <c>bufferDirectory</c>) left on disk for the next start.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Process)]
    public sealed class ProcessExitTests
    {
        private const int Burst = 20_000;
        private TempDirectory _temp = null!;

        [TestInitialize]
        public void CreateDirectory() => _temp = new TempDirectory("fh-exit-");

        [TestCleanup]
        public void DeleteDirectory() => _temp.Dispose();

        private string BufferDirectory => Path.Combine(_temp.Path, "buffer");

        private string Config(FirehoseStandIn standIn, bool durable)
        {
            Directory.CreateDirectory(_temp.Path);
            string path = Path.Combine(_temp.Path, "nlog-" + Guid.NewGuid().ToString("N") + ".config");
            string buffer = durable ? $@" bufferDirectory=""{BufferDirectory}""" : string.Empty;
            File.WriteAllText(path, $"""
                <nlog xmlns="http://www.nlog-project.org/schemas/NLog.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" throwConfigExceptions="true"
                      internalLogLevel="Warn" internalLogToConsole="true">
                  <extensions><add assembly="NLog.Targets.Firehose" /></extensions>
                  <targets>
                    <target xsi:type="KinesisFirehose" name="fh" deliveryStreamName="app-logs" region="us-east-1" serviceUrl="{standIn.Url}"{buffer} />
                  </targets>
                  <rules><logger name="*" minlevel="Trace" writeTo="fh" /></rules>
                </nlog>
                """);
            return path;
        }

        /// <summary>A stand-in with the stream, in an outage for the whole test if <paramref name="outage"/>.</summary>
        private static async Task<FirehoseStandIn> StandInAsync(bool outage)
        {
            var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            if (outage)
                standIn.Faults.BeginOutage(TimeSpan.FromMinutes(10));
            return standIn;
        }

        /// <summary>Runs the child through its burst, then lets it return from Main or sends it SIGTERM; returns what it said once it ended.</summary>
        private static string Run(string config, string how)
        {
            // The last 1,500 events of the burst are logged while NLog's writer is held for good in a hand-over of one marker
            // event: they are in NLog's own queue (at most 2,000 events) when the process ends.
            using var child = ChildProcess.Start(config, Burst, 0, how == "return" ? "return" : "wait", ("FH_CHILD_HOLD_TAIL", "1500"));
            child.WaitForOutput("LOGGED " + Burst);
            if (how == "sigterm")
                child.Terminate();
            else
                child.WaitForExit();
            return child.Output;
        }

        [TestMethod]
        [DataRow("return", DisplayName = "returns from Main")]
        [DataRow("sigterm", DisplayName = "SIGTERM")]
        public async Task ExitWithoutShutdown_RightAfterABurst_EveryEventDeliveredOnce(string how)
        {
            await using var standIn = await StandInAsync(outage: false);
            string output = Run(Config(standIn, durable: false), how);

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), Burst), "child said: " + output);
            Assert.IsFalse(output.Contains("not delivered", StringComparison.Ordinal), output);
        }

        [TestMethod]
        [DataRow("return", DisplayName = "returns from Main")]
        [DataRow("sigterm", DisplayName = "SIGTERM")]
        public async Task ExitWithoutShutdown_DuringAnOutage_EveryEventCountedAndReportedByLevel(string how)
        {
            await using var standIn = await StandInAsync(outage: true);
            string output = Run(Config(standIn, durable: false), how);

            StringAssert.Contains(output, how == "return"
                ? $"closing with {Burst} events not delivered (Trace 0, Debug 0, Info {Burst}, Warn 0, Error 0, Fatal 0); they are lost"
                : $"SIGTERM: {Burst} events");
            if (how == "sigterm")
                StringAssert.Contains(output, $"Info {Burst}, Warn 0");
            Assert.AreEqual(0, standIn.Records("app-logs").Count);
        }

        [TestMethod]
        [DataRow("return", DisplayName = "returns from Main")]
        [DataRow("sigterm", DisplayName = "SIGTERM")]
        public async Task ExitWithoutShutdown_DuringAnOutageWithBufferDirectory_TheNextStartDeliversEveryEventOnce(string how)
        {
            await using var standIn = await StandInAsync(outage: true);
            string output = Run(Config(standIn, durable: true), how);
            StringAssert.Contains(output, how == "return"
                ? $"closing with {Burst} events not delivered yet; they stay in the durable buffer"
                : "they stay in the durable buffer for the next start");
            Assert.AreEqual(0, standIn.Records("app-logs").Count);

            standIn.Faults.Clear();
            var next = StandInHarness.Target(standIn);
            next.BufferDirectory = BufferDirectory;
            using (var factory = Harness.Factory(next))
                Harness.FlushCompletes(factory, TimeSpan.FromSeconds(60));

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), Burst));
        }
    }
}
