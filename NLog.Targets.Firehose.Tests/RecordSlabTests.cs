using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>Encoding straight from a StringBuilder into shared arrays (the target's hot path).</summary>
    [TestClass]
    public class RecordSlabTests
    {
        private static readonly LogEventInfo Event = new LogEventInfo(LogLevel.Info, "Tests.Logger", "hello") { TimeStamp = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc) };

        private static ReadOnlyMemory<byte> Encode(RecordEncoder encoder, RecordSlab slab, string text, out EncodeOutcome outcome, out int repaired)
        {
            var builder = slab.Text();
            builder.Append(text);
            Assert.IsTrue(encoder.TryEncode(builder, Event, slab, out var data, out outcome, out repaired));
            return data;
        }

        private static byte[] ArrayOf(ReadOnlyMemory<byte> data)
        {
            Assert.IsTrue(MemoryMarshal.TryGetArray(data, out var segment));
            return segment.Array!;
        }

        [TestMethod]
        public void TryEncode_SmallRecords_ShareArraysAndKeepTheirBytesAfterTheArrayIsFull()
        {
            var encoder = new RecordEncoder(appendNewLine: true, OversizeRecordAction.Truncate);
            var slab = new RecordSlab();
            var texts = Enumerable.Range(0, 3000).Select(i => "{\"n\":" + i + ",\"m\":\"é \u4e2d " + new string('x', i % 50) + "\"}").ToList();
            var records = texts.Select(t => Encode(encoder, slab, t, out _, out _)).ToList();

            for (int i = 0; i < texts.Count; i++)
                Assert.AreEqual(texts[i] + "\n", Encoding.UTF8.GetString(records[i].ToArray()), "record " + i);
            int arrays = records.Select(ArrayOf).Distinct().Count();
            Assert.IsTrue(arrays > 1 && arrays < texts.Count / 100, $"{arrays} arrays for {texts.Count} records");
            Assert.IsTrue(records.Select(ArrayOf).All(a => a.Length == RecordSlab.Size));
        }

        [TestMethod]
        public void TryEncode_ManySmallRecords_AllocatesAboutTheirBytesOnly()
        {
            var encoder = new RecordEncoder(appendNewLine: true, OversizeRecordAction.Truncate);
            var slab = new RecordSlab();
            string text = "{\"time\":\"2026-01-02T03:04:05Z\",\"level\":\"INFO\",\"message\":\"" + new string('m', 150) + "\"}";
            Encode(encoder, slab, text, out _, out _); // warm up: the first array and the JIT

            const int Count = 20_000;
            long data = 0;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Count; i++)
            {
                var builder = slab.Text();
                builder.Append(text);
                encoder.TryEncode(builder, Event, slab, out var record, out _, out _);
                data += record.Length;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            // Only the shared arrays: the records' bytes plus the unused tail of each array; no string, no array per event.
            Assert.IsTrue(allocated <= data + data / 50 + 2 * RecordSlab.Size, $"{allocated} bytes allocated for {data} bytes of records");
        }

        [TestMethod]
        public void TryEncode_LoneSurrogates_RepairedInPlace()
        {
            var encoder = new RecordEncoder(appendNewLine: false, OversizeRecordAction.Truncate);
            var slab = new RecordSlab();

            var raw = Encode(encoder, slab, "a\uD800b\uD83D\uDE00", out _, out int rawRepaired);
            var escaped = Encode(encoder, slab, "{\"m\":\"x\\ud800y\\ud83d\\ude00\"}", out _, out int escapedRepaired);

            Assert.AreEqual("a\uFFFDb\uD83D\uDE00", Encoding.UTF8.GetString(raw.ToArray()));
            Assert.AreEqual(1, rawRepaired);
            Assert.AreEqual("{\"m\":\"x\\ufffdy\\ud83d\\ude00\"}", Encoding.UTF8.GetString(escaped.ToArray()));
            Assert.AreEqual(1, escapedRepaired);
        }

        [TestMethod]
        [DataRow(RecordSlab.MaxChars + 1)]
        [DataRow(FirehoseLimits.MaxRecordBytes + 10)]
        [DataRow(3 * 1024 * 1024)]
        public void TryEncode_LargeText_SameBytesAsEncodeAndAnArrayOfItsOwn(int length)
        {
            var encoder = new RecordEncoder(appendNewLine: true, OversizeRecordAction.Truncate);
            var slab = new RecordSlab();
            string text = "{\"message\":\"" + new string('y', length) + "\"}";

            var data = Encode(encoder, slab, text, out var outcome, out _);

            CollectionAssert.AreEqual(encoder.Encode(text, Event, out var expectedOutcome), data.ToArray());
            Assert.AreEqual(expectedOutcome, outcome);
            Assert.AreEqual(data.Length, ArrayOf(data).Length, "an array of its own");
            Assert.AreEqual("\n", Encoding.UTF8.GetString(Encode(encoder, slab, "", out _, out _).ToArray()), "the slab's buffers are fine after a large text");
        }

        [TestMethod]
        public void TryEncode_OversizeWithDropAction_ReturnsFalse()
        {
            var encoder = new RecordEncoder(appendNewLine: true, OversizeRecordAction.Drop);
            var slab = new RecordSlab();
            var builder = slab.Text().Append('z', FirehoseLimits.MaxRecordBytes + 1);

            Assert.IsFalse(encoder.TryEncode(builder, Event, slab, out _, out var outcome, out _));
            Assert.AreEqual(EncodeOutcome.Dropped, outcome);
        }

        [TestMethod]
        public void BufferAboutToDrop_KeptRecordsGetArraysOfTheirOwn()
        {
            var shared = Encoding.UTF8.GetBytes(new string('a', 100) + new string('b', 100) + new string('c', 100));
            var buffer = new MemoryRecordBuffer(maxBytes: 3 * (100 + BufferedRecord.Overhead), int.MaxValue, () => DateTime.UtcNow);
            var records = new List<BufferedRecord>();
            for (int i = 0; i < 3; i++)
                records.Add(new BufferedRecord("s", new ReadOnlyMemory<byte>(shared, i * 100, 100), i == 1 ? LogLevel.Warn.Ordinal : LogLevel.Debug.Ordinal, i, shared: true));
            buffer.AddRange(records);
            Assert.IsTrue(records.All(r => r.Shared), "below the bound: nothing copied");

            var newcomer = new BufferedRecord("s", new ReadOnlyMemory<byte>(new byte[300], 0, 100), LogLevel.Warn.Ordinal, 3, shared: true);
            buffer.Add(newcomer); // drops the oldest Debug record

            Assert.AreEqual(3, buffer.Size.Records);
            var kept = new[] { records[1], records[2], newcomer };
            Assert.IsTrue(kept.All(r => !r.Shared && MemoryMarshal.TryGetArray(r.Data, out var s) && s.Offset == 0 && s.Array!.Length == 100));
            Assert.AreEqual(new string('b', 100), Encoding.UTF8.GetString(records[1].Data.ToArray()));
            Assert.AreEqual(new string('c', 100), Encoding.UTF8.GetString(records[2].Data.ToArray()));
        }
    }
}
