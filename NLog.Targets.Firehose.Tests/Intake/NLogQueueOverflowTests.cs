using System;
using System.Linq;
using System.Text.Json;
using System.Threading;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// NLog's own hand-over queue sits in front of the target; when the target cannot take events out of it (here: held
    /// on purpose) and it reaches queueLimit, NLog drops its oldest events. Those drops must not be silent.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class NLogQueueOverflowTests
    {
        [TestMethod]
        public void HandOverStalled_NLogQueueFull_DropsCountedWarnedAndSummarised()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);
            target.QueueLimit = 50;
            target.OverflowAction = NLog.Targets.Wrappers.AsyncTargetWrapperOverflowAction.Discard; // the default, Block, would hold the logging thread
            using var hold = new ManualResetEventSlim(false);
            using var held = new ManualResetEventSlim(false);
            target.Seams.BeforeHandOver = () =>
            {
                held.Set();
                hold.Wait(TimeSpan.FromSeconds(30));
            };
            using var log = new InternalLogCapture(LogLevel.Warn);
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Overflow");
                logger.Info("first");
                Assert.IsTrue(held.Wait(TimeSpan.FromSeconds(10)), "the hand-over did not start");
                for (int i = 0; i < 200; i++)
                    logger.Warn("event {Seq}", i); // the take-over is held: NLog's queue fills up to 50, then drops its oldest

                Assert.AreEqual(150, target.Statistics.NLogQueueDroppedEvents);
                StringAssert.Contains(log.Text, "NLog's hand-over queue is full (50 events) and overflowAction is Discard");
                target.Seams.BeforeHandOver = null;
                hold.Set();
                // Before a flush: NLog's flush puts a marker in its queue, which would push out one more event were the
                // queue still full.
                Assert.IsTrue(SpinWait.SpinUntil(() => target.Statistics.HandedOverEvents == 51, TimeSpan.FromSeconds(10)), "NLog handed over the 50 it kept");
                factory.Flush(TimeSpan.FromSeconds(10));
                // The summary event goes with the next successful call.
                logger.Info("after");
                factory.Flush(TimeSpan.FromSeconds(10));
            }

            var texts = client.AllTexts.ToList();
            var summary = texts.Select(t => JsonDocument.Parse(t).RootElement).Single(r => r.TryGetProperty("droppedEvents", out _));
            // queueLimit bounds NLog's queue only: the target's buffer (maxQueueEvents) had room for everything NLog kept.
            Assert.AreEqual(150, summary.GetProperty("droppedEvents").GetInt64(), string.Join("\n", texts.Take(3)));
            long warn = summary.GetProperty("droppedWarn").GetInt64();
            Assert.AreEqual(150, warn, "NLog's queue drops are in the summary, by level");
            // The newest arrived: NLog drops the oldest waiting events.
            var seqs = texts.Select(t => JsonDocument.Parse(t).RootElement).Where(r => r.TryGetProperty("Seq", out _)).Select(r => r.GetProperty("Seq").GetInt32()).ToList();
            int kept = 200 - (int)warn;
            CollectionAssert.AreEqual(Enumerable.Range(200 - kept, kept).ToList(), seqs);
            Assert.AreEqual(150, target.Statistics.QueueDroppedEvents, "in the target's drop count (and so the meter)");
        }
    }
}
