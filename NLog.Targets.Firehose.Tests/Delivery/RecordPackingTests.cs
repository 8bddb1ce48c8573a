using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Delivery;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>Packing and gzip on their own and through the target with a substituted client.</summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public sealed class RecordPackingTests
    {
        private static BufferedRecord Record(int i, int size = 100) =>
            new BufferedRecord("s", Encoding.UTF8.GetBytes(i.ToString("D6") + new string('x', size - 7) + "\n"), i % 6, i);

        [TestMethod]
        public void Pack_ConsecutiveRecordsUpToTheSize_InOrderNeverSplit()
        {
            var records = Enumerable.Range(0, 25).Select(i => Record(i)).ToList();

            var packed = RecordPacker.Pack(records, 1000, 500, out var starts, out int used);

            Assert.AreEqual(25, used);
            CollectionAssert.AreEqual(new[] { 0, 10, 20 }, starts);
            CollectionAssert.AreEqual(new[] { 1000, 1000, 500 }, packed.Select(p => p.Data.Length).ToArray());
            Assert.AreEqual(string.Concat(records.Select(r => Encoding.UTF8.GetString(r.Data.ToArray()))), string.Concat(packed.Select(p => Encoding.UTF8.GetString(p.Data.ToArray()))));
            Assert.AreEqual(5, packed[0].Level, "a packed record carries its most important level");
        }

        [TestMethod]
        public void Pack_RecordLargerThanTheSize_GoesAloneUnchanged()
        {
            var records = new List<BufferedRecord> { Record(0), Record(1, 5000), Record(2) };

            var packed = RecordPacker.Pack(records, 1000, 500, out var starts, out _);

            CollectionAssert.AreEqual(new[] { 0, 1, 2 }, starts);
            Assert.AreSame(records[1], packed[1]);
        }

        [TestMethod]
        public void Pack_MoreThanTheRecordsOfOneCall_LeftoversCounted()
        {
            var records = Enumerable.Range(0, 30).Select(i => Record(i)).ToList();

            var packed = RecordPacker.Pack(records, 1000, 2, out _, out int used);

            Assert.AreEqual(2, packed.Count);
            Assert.AreEqual(20, used);
        }

        [TestMethod]
        [DataRow(1L, 1L)]
        [DataRow(5120L, 1L)]
        [DataRow(5121L, 2L)]
        [DataRow(1_024_000L, 200L)]
        public void BilledUnits_RoundedUpTo5KB(long bytes, long units)
        {
            Assert.AreEqual(units, RecordPacker.BilledUnits(bytes));
        }

        /// <summary>Logs <paramref name="count"/> messages through a packing target, one call at a time, and flushes.</summary>
        private static FirehoseTarget LogThroughPacking(RecordingClient client, int packedBytes, int count, Func<int, string> message)
        {
            var target = Harness.Target(client);
            target.RecordPacking = true;
            target.PackedRecordBytes = packedBytes;
            target.Layout = "${message}";
            target.MaxConcurrentRequests = 1;
            using var factory = Harness.Factory(target);
            var logger = factory.GetLogger("Pack");
            for (int i = 0; i < count; i++)
                logger.Info(message(i));
            factory.Flush();
            return target;
        }

        [TestMethod]
        public void Target_Packing_CallsWithinTheLimitsEveryEventOnceInOrder()
        {
            var client = new RecordingClient();
            var target = LogThroughPacking(client, 64 * 1024, 50_000, i => "event " + i.ToString("D6") + new string('p', 180));

            foreach (var call in client.Calls)
            {
                Assert.IsTrue(call.Records.Length <= 500);
                Assert.IsTrue(call.Records.Sum(r => (long)r.Length) <= FirehoseLimits.MaxBytesPerCall);
                Assert.IsTrue(call.Records.All(r => r.Length <= 64 * 1024 && r[^1] == (byte)'\n'));
            }
            var lines = client.AllTexts.SelectMany(t => t.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
            CollectionAssert.AreEqual(Enumerable.Range(0, 50_000).Select(i => "event " + i.ToString("D6") + new string('p', 180)).ToList(), lines);
            const int EventBytes = 6 + 6 + 180 + 1; // "event " + six digits + padding + "\n"
            foreach (var call in client.Calls)
            {
                for (int i = 0; i + 1 < call.Records.Length; i++)
                    Assert.IsTrue(call.Records[i].Length + EventBytes > 64 * 1024, "a record is closed only when the next event does not fit");
            }
        }

        [TestMethod]
        public void Target_PackedRecordFails_ResentWholeAndOnlyIt()
        {
            var client = new RecordingClient();
            client.Respond = (index, records) => Task.FromResult(index == 0
                ? RecordingClient.PartialFailure(records.Length, new[] { records.Length - 1 })
                : PutRecordBatchResult.AllAccepted(records.Length));
            var target = LogThroughPacking(client, 10 * 1024, 300, i => "event " + i.ToString("D4") + new string('p', 90));

            var calls = client.Calls;
            string failed = Encoding.UTF8.GetString(calls[0].Records[^1]);
            StringAssert.StartsWith(Encoding.UTF8.GetString(calls[1].Records[0]), failed, "the failed packed record's events are resent whole, first");
            var lines = client.AllTexts.SelectMany(t => t.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
            Assert.AreEqual(300 + failed.Count(c => c == '\n'), lines.Count, "only the failed record's events were sent twice");
            Assert.AreEqual(300, lines.Distinct().Count());
            Assert.AreEqual(300, target.Statistics.DeliveredEvents);
        }

        private static string Gunzip(byte[] gzip)
        {
            using var input = new System.IO.Compression.GZipStream(new System.IO.MemoryStream(gzip), System.IO.Compression.CompressionMode.Decompress);
            using var reader = new System.IO.StreamReader(input, Encoding.UTF8);
            return reader.ReadToEnd();
        }

        [TestMethod]
        public void Pack_GZip_EveryRecordOneGzipMemberOfItsEvents_ConcatenatedOneMultiMemberFile()
        {
            var records = Enumerable.Range(0, 25).Select(i => Record(i)).ToList();
            records.Insert(12, Record(99, 5000)); // larger than the size: a member of its own, compressed too

            var packed = RecordPacker.Pack(records, 1000, 500, out var starts, out int used, gzip: true);

            Assert.AreEqual(26, used);
            CollectionAssert.AreEqual(new[] { 0, 10, 12, 13, 23 }, starts);
            for (int r = 0; r < packed.Count; r++)
            {
                byte[] data = packed[r].Data.ToArray();
                Assert.IsTrue(data.Length > 18 && data[0] == 0x1f && data[1] == 0x8b, $"record {r} is a gzip member");
                int end = r + 1 < starts.Count ? starts[r + 1] : records.Count;
                string events = string.Concat(records.Skip(starts[r]).Take(end - starts[r]).Select(e => Encoding.UTF8.GetString(e.Data.ToArray())));
                Assert.AreEqual(events, Gunzip(data), $"record {r} holds its events, in order");
                Assert.IsFalse(packed[r].Pooled, "a compressed record owns its array");
            }
            byte[] objectBytes = packed.SelectMany(p => p.Data.ToArray()).ToArray(); // what Firehose writes to S3: the records concatenated
            Assert.AreEqual(string.Concat(records.Select(r => Encoding.UTF8.GetString(r.Data.ToArray()))), Gunzip(objectBytes));
        }

        [TestMethod]
        public void Target_GZip_RecordsGunzipToEveryEventOnce_IngestedBytesFewerThanEventBytes()
        {
            var client = new RecordingClient();
            var target = Harness.Target(client);
            target.RecordPacking = true;
            target.Compression = RecordCompression.GZip;
            target.Layout = "${message}";
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Pack");
                for (int i = 0; i < 20_000; i++)
                    logger.Info("event " + i.ToString("D6") + " GET /api/orders/" + (i % 100) + " 200 " + new string('p', 100));
                factory.Flush();
            }

            var lines = client.Calls.SelectMany(c => c.Records).SelectMany(r => Gunzip(r).Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
            Assert.AreEqual(20_000, lines.Count);
            Assert.AreEqual(20_000, lines.Distinct().Count());
            Assert.AreEqual(20_000, target.Statistics.DeliveredEvents);
            long sent = client.Calls.SelectMany(c => c.Records).Sum(r => (long)r.Length);
            Assert.AreEqual(sent, target.Statistics.IngestedBytes, "the meter's bytes sent are the compressed bytes");
            Assert.IsTrue(target.Statistics.EventBytes > 8 * sent, $"{target.Statistics.EventBytes} event bytes went as {sent} bytes");
        }

        [TestMethod]
        public void Target_GZipRecordFails_ResentWholeAndOnlyIt()
        {
            var client = new RecordingClient();
            client.Respond = (index, records) => Task.FromResult(index == 0
                ? RecordingClient.PartialFailure(records.Length, new[] { records.Length - 1 })
                : PutRecordBatchResult.AllAccepted(records.Length));
            var target = Harness.Target(client);
            target.RecordPacking = true;
            target.PackedRecordBytes = 10 * 1024;
            target.Compression = RecordCompression.GZip;
            target.Layout = "${message}";
            target.MaxConcurrentRequests = 1;
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Pack");
                for (int i = 0; i < 300; i++)
                    logger.Info("event " + i.ToString("D4") + new string('p', 90));
                factory.Flush();
            }

            var calls = client.Calls;
            string failed = Gunzip(calls[0].Records[^1]);
            StringAssert.StartsWith(Gunzip(calls[1].Records[0]), failed, "the failed compressed record's events are resent whole, first");
            var lines = calls.SelectMany(c => c.Records).SelectMany(r => Gunzip(r).Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
            Assert.AreEqual(300 + failed.Count(c => c == '\n'), lines.Count, "only the failed record's events were sent twice");
            Assert.AreEqual(300, lines.Distinct().Count());
            Assert.AreEqual(300, target.Statistics.DeliveredEvents);
        }
    }

    /// <summary>Packing over HTTP, against the stand-in and its faults.</summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public sealed class RecordPackingOverHttpTests
    {
        [TestMethod]
        public async Task StandIn_PackingUnderFaults_EveryEventOnceAndAtLeast20TimesFewerBilledUnits()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            StandInHarness.InjectFaultMix(standIn);
            const int total = 100_000;
            var target = StandInHarness.Target(standIn);
            target.RecordPacking = true;
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Pack");
                for (int i = 0; i < total; i++)
                    logger.Info("event {Seq} {Pad}", i, new string('p', 60)); // about 200 bytes as JSON
                factory.Flush();
            }

            var counts = new Dictionary<int, int>();
            long unpackedUnits = 0;
            foreach (var record in standIn.Records("app-logs"))
            {
                Assert.AreEqual((byte)'\n', record[^1]);
                foreach (var line in Encoding.UTF8.GetString(record).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    using var json = System.Text.Json.JsonDocument.Parse(line);
                    int seq = json.RootElement.GetProperty("Seq").GetInt32();
                    counts[seq] = counts.TryGetValue(seq, out int n) ? n + 1 : 1;
                    unpackedUnits += RecordPacker.BilledUnits(Encoding.UTF8.GetByteCount(line) + 1);
                }
            }
            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(counts, total));
            double ratio = (double)unpackedUnits / target.Statistics.BilledUnits;
            Assert.IsTrue(ratio >= 20, $"packed: {target.Statistics.BilledUnits} billed units for {total} events; one event per record: {unpackedUnits}; ratio {ratio:0.0}");
        }
    }
}
