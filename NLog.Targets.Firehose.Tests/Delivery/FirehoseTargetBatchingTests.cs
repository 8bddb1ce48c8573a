using System;
using System.Linq;
using System.Text;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class FirehoseTargetBatchingTests
    {
        [TestMethod]
        public void Write_1200Events_EveryEventOnceCallsAtMost500InOrderWithinACall()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Batching");

            for (int i = 0; i < 1200; i++)
                logger.Info("event {Seq}", i);
            factory.Flush();

            Assert.IsTrue(client.Calls.All(c => c.Records.Length <= 500));
            Assert.AreEqual(1200, client.Calls.Sum(c => c.Records.Length));
            int Seq(byte[] record) => JsonDocument.Parse(record).RootElement.GetProperty("Seq").GetInt32();
            CollectionAssert.AreEqual(Enumerable.Range(0, 1200).ToArray(), client.Calls.SelectMany(c => c.Records).Select(Seq).OrderBy(s => s).ToArray());
            foreach (var call in client.Calls)
            {
                var seqs = call.Records.Select(Seq).ToArray();
                CollectionAssert.AreEqual(seqs.OrderBy(s => s).ToArray(), seqs, "in order within a call");
            }
            Assert.AreEqual(1200, target.Statistics.DeliveredEvents);
        }

        [TestMethod]
        public void Write_DefaultLayout_NewlineDelimitedJsonWithExpectedFields()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);
            using var factory = Harness.Factory(target);

            factory.GetLogger("My.Logger").Warn(new InvalidOperationException("boom"), "Order {OrderId} failed for {Customer}", 42, "ada");
            factory.Flush();

            var record = client.Calls.Single().Records.Single();
            string text = Encoding.UTF8.GetString(record);
            Assert.IsTrue(text.EndsWith("\n", StringComparison.Ordinal) && !text.EndsWith("\n\n", StringComparison.Ordinal));
            Assert.AreEqual(1, text.Count(c => c == '\n'));
            var root = JsonDocument.Parse(text).RootElement;
            Assert.AreEqual("WARN", root.GetProperty("level").GetString());
            Assert.AreEqual("My.Logger", root.GetProperty("logger").GetString());
            Assert.AreEqual("Order 42 failed for ada", root.GetProperty("message").GetString());
            StringAssert.Contains(root.GetProperty("exception").GetString(), "InvalidOperationException: boom");
            Assert.AreEqual(42, root.GetProperty("OrderId").GetInt32());
            Assert.AreEqual("ada", root.GetProperty("Customer").GetString());
            var time = root.GetProperty("time").GetString()!;
            StringAssert.EndsWith(time, "Z");
            Assert.IsTrue(DateTime.TryParse(time, out _));
        }

        [TestMethod]
        public void Write_NoException_ExceptionFieldAbsent()
        {
            var client = new RecordingClient();
            using var factory = Harness.Factory(Harness.Target(client));
            factory.GetLogger("x").Info("plain");
            factory.Flush();
            var root = JsonDocument.Parse(client.AllTexts.Single()).RootElement;
            Assert.IsFalse(root.TryGetProperty("exception", out _));
        }

        [TestMethod]
        public void Linger_CallNotFull_WaitsForMoreUntilFlushThenOneCall()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);
            target.LingerMilliseconds = 60_000;
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Linger");

            for (int i = 0; i < 10; i++)
                logger.Info("event {Seq}", i);
            Assert.IsFalse(client.WhenCalls(1).Wait(TimeSpan.FromMilliseconds(500)), "a call of 10 records waits to fill up");
            factory.Flush();

            Assert.AreEqual(1, client.Calls.Count);
            Assert.AreEqual(10, client.Calls[0].Records.Length);
        }

        [TestMethod]
        public void Linger_FullCall_SentWithoutWaiting()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);
            target.LingerMilliseconds = 60_000;
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Linger");

            for (int i = 0; i < 500; i++)
                logger.Info("event {Seq}", i);

            Assert.IsTrue(client.WhenCalls(1).Wait(TimeSpan.FromSeconds(30)), "500 records make a full call: no linger");
            Assert.AreEqual(500, client.Calls[0].Records.Length);
        }

        [TestMethod]
        public void Linger_Zero_SendsWithoutFlush()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);
            target.LingerMilliseconds = 0;
            using var factory = Harness.Factory(target);

            factory.GetLogger("Linger").Info("one");

            Assert.IsTrue(client.WhenCalls(1).Wait(TimeSpan.FromSeconds(30)));
        }

        [TestMethod]
        public void Write_LargeEvents_CallsStayWithin4MBAndEveryEventArrives()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);
            target.Layout = "${message}";
            target.MaxConcurrentRequests = 1; // order across calls is only defined with one call at a time
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Large");
            string payload = new string('x', 900_000);

            for (int i = 0; i < 10; i++)
                logger.Info(i.ToString("D2") + payload);
            factory.Flush();

            Assert.AreEqual(10, client.Calls.Sum(c => c.Records.Length));
            Assert.IsTrue(client.Calls.Count >= 3);
            Assert.IsTrue(client.Calls.All(c => c.Records.Sum(r => (long)r.Length) <= FirehoseLimits.MaxBytesPerCall));
            CollectionAssert.AreEqual(Enumerable.Range(0, 10).Select(i => i.ToString("D2")).ToArray(), client.AllTexts.Select(t => t.Substring(0, 2)).ToArray());
        }

        /// <summary>Logs a normal event, one twice the record limit, and another normal one; returns what was sent and logged internally.</summary>
        private static (string[] Texts, string InternalLog) LogAroundOversized(RecordingClient client, FirehoseTarget target)
        {
            using var capture = new InternalLogCapture(LogLevel.Warn);
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Oversize");
                logger.Info("before");
                logger.Info(new string('z', 2 * FirehoseLimits.MaxRecordBytes));
                logger.Info("after");
                factory.Flush();
            }
            Assert.IsTrue(client.Calls.SelectMany(c => c.Records).All(r => r.Length <= FirehoseLimits.MaxRecordBytes));
            return (client.AllTexts.ToArray(), capture.Text);
        }

        [TestMethod]
        public void Write_OversizedEventAmongOthers_TruncatedCountedAndBatchStillSent()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);

            var (texts, internalLog) = LogAroundOversized(client, target);

            Assert.AreEqual(3, texts.Length);
            Assert.IsTrue(JsonDocument.Parse(texts[1]).RootElement.GetProperty("truncated").GetBoolean());
            Assert.AreEqual("after", JsonDocument.Parse(texts[2]).RootElement.GetProperty("message").GetString());
            Assert.AreEqual(1, target.Statistics.TruncatedEvents);
            StringAssert.Contains(internalLog, "truncated 1 events");
        }

        [TestMethod]
        public void Write_OversizedEventWithDrop_DroppedCountedAndOthersSent()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);
            target.OversizeRecordAction = OversizeRecordAction.Drop;

            var (texts, internalLog) = LogAroundOversized(client, target);

            CollectionAssert.AreEqual(new[] { "before", "after" }, texts.Select(t => JsonDocument.Parse(t).RootElement.GetProperty("message").GetString()).ToArray());
            Assert.AreEqual(1, target.Statistics.DroppedEvents);
            StringAssert.Contains(internalLog, "left out 1 events");
        }

        [TestMethod]
        public void Write_StreamNameLayout_GroupsEventsPerRenderedStream()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);
            target.DeliveryStreamName = "logs-${event-properties:Tenant}";
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Tenants");

            for (int i = 0; i < 10; i++)
                logger.Info("for {Tenant}", i % 2 == 0 ? "a" : "b");
            factory.Flush();

            Assert.AreEqual(2, client.Calls.Count);
            Assert.AreEqual(5, client.Calls.Single(c => c.Stream == "logs-a").Records.Length);
            Assert.AreEqual(5, client.Calls.Single(c => c.Stream == "logs-b").Records.Length);
        }

        [TestMethod]
        public void Write_ThrowingPropertyToString_OtherEventsStillDelivered()
        {
            var client = new RecordingClient();
            using var factory = Harness.Factory(Harness.Target(client));
            var logger = factory.GetLogger("Bad");

            logger.Info("ok {A}", 1);
            logger.Info("bad {B}", new ThrowingToString());
            logger.Info("ok {A}", 2);
            factory.Flush();

            var texts = client.AllTexts.ToArray();
            Assert.IsTrue(texts.Length >= 2);
            Assert.IsTrue(texts.Any(t => t.Contains("\"A\":1")));
            Assert.IsTrue(texts.Any(t => t.Contains("\"A\":2")));
        }

        private sealed class ThrowingToString
        {
            public override string ToString() => throw new InvalidOperationException("ToString failed");
        }
    }
}
