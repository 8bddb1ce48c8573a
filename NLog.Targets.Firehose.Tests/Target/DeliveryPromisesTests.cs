using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>What the README promises about calls in flight, a stalled endpoint and closing, over HTTP to the stand-in.</summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public sealed class DeliveryPromisesTests
    {
        [TestMethod]
        [DataRow(1)]
        [DataRow(3)]
        public async Task MaxConcurrentRequests_CallsInFlightReachButNeverPassTheOption(int slots)
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            standIn.Faults.Hold = gate.Task; // calls are held until as many as allowed are in flight
            var target = StandInHarness.Target(standIn);
            target.MaxConcurrentRequests = slots;
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Slots");
                for (int i = 0; i < 10 * 500; i++)
                    logger.Info("event {Seq}", i); // ten full calls
                await standIn.WhenInFlight(slots).WaitAsync(TimeSpan.FromSeconds(60));
                gate.SetResult();
                Harness.FlushCompletes(factory, TimeSpan.FromSeconds(60));
            }

            Assert.AreEqual(slots, standIn.MaxConcurrentRequests, "calls in flight at once");
            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 10 * 500));
        }

        [TestMethod]
        public async Task StalledEndpoint_LoggingReturnsWhileEveryCallIsHeld_ThenEverythingArrives()
        {
            // "Never blocks the application": the endpoint answers nothing until every logging call has returned.
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            standIn.Faults.Hold = gate.Task;
            var target = StandInHarness.Target(standIn);
            const int total = 20_000;
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Stalled");
                try
                {
                    var logging = Task.Run(() =>
                    {
                        for (int i = 0; i < total; i++)
                            logger.Info("event {Seq}", i);
                    });
                    Assert.IsTrue(logging.Wait(TimeSpan.FromSeconds(120)), "logging waited for the stalled endpoint (a hang guard, not a timing claim)");
                    await standIn.WhenInFlight(1).WaitAsync(TimeSpan.FromSeconds(60));
                    Assert.AreEqual(0, standIn.Records("app-logs").Count, "the endpoint answered nothing while the application logged");
                    Assert.IsFalse(gate.Task.IsCompleted);
                }
                finally
                {
                    gate.TrySetResult(); // also when an assertion failed: nothing stays held behind the test
                }
                Harness.FlushCompletes(factory, TimeSpan.FromSeconds(60));
            }

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), total));
        }

        [TestMethod]
        public async Task Close_EndpointNeverAnswers_ReturnsAfterTheDrainAndReportsWhatWasLostByLevel()
        {
            // Closing drains for a bounded time (5 s by default) and then reports; it never waits for the endpoint. Its
            // earlier version only checked that closing returned within two minutes: it passed with no drain at all.
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.Hold = new TaskCompletionSource().Task; // never completed
            var target = StandInHarness.Target(standIn);
            var drain = TimeSpan.FromMilliseconds(500);
            target.Seams.CloseDrain = drain;
            using var log = new InternalLogCapture(LogLevel.Error);
            var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Drain");
            for (int i = 0; i < 1000; i++)
                (i % 2 == 0 ? (Action<string, int>)logger.Info : logger.Warn)("event {Seq}", i);
            Assert.IsTrue(SpinWait.SpinUntil(() => target.Statistics.HandedOverEvents == 1000, TimeSpan.FromSeconds(60)), "NLog handed every event over");
            await standIn.WhenInFlight(1).WaitAsync(TimeSpan.FromSeconds(60));

            var closing = System.Diagnostics.Stopwatch.StartNew();
            var close = Task.Run(() => factory.Dispose());
            Assert.IsTrue(close.Wait(TimeSpan.FromMinutes(2)), "closing returned (a hang guard, not a timing claim)");
            // A lower bound (a busy machine only lengthens it), less the 25 ms a timed wait may wake early by (timer ticks).
            Assert.IsTrue(closing.Elapsed >= drain - TimeSpan.FromMilliseconds(25), $"closing kept delivering for the drain: returned after {closing.Elapsed.TotalMilliseconds:0} ms");

            Assert.AreEqual(1000, target.Statistics.UndeliveredAtClose);
            StringAssert.Contains(log.Text, "closing with 1000 events not delivered (Trace 0, Debug 0, Info 500, Warn 500, Error 0, Fatal 0)");
            Assert.AreEqual(0, standIn.Records("app-logs").Count);
        }

        [TestMethod]
        public async Task Close_EndpointAnswersDuringTheDrain_EveryEventArrivesNoneReportedLost()
        {
            // The drain delivers: calls held until closing has begun arrive before closing returns.
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            standIn.Faults.Hold = gate.Task;
            var target = StandInHarness.Target(standIn);
            target.Seams.DrainBegun = () => gate.TrySetResult();
            var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Drain");
            try
            {
                for (int i = 0; i < 1000; i++)
                    logger.Info("event {Seq}", i);
                Assert.IsTrue(SpinWait.SpinUntil(() => target.Statistics.HandedOverEvents == 1000, TimeSpan.FromSeconds(60)), "NLog handed every event over");
                await standIn.WhenInFlight(1).WaitAsync(TimeSpan.FromSeconds(60));
                Assert.AreEqual(0, standIn.Records("app-logs").Count, "nothing answered before closing");
                factory.Dispose();
            }
            finally
            {
                gate.TrySetResult(); // also when an assertion failed: nothing stays held behind the test
            }

            Assert.AreEqual(0, target.Statistics.UndeliveredAtClose);
            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 1000));
        }
    }
}
