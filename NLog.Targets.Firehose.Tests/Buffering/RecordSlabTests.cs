using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Intake;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>Encoding straight from a StringBuilder into shared arrays (the target's hot path).</summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
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
        public void TryEncode_ManySmallRecords_NoArrayPerEvent_ArraysReusedOnceRecordsAreReleased()
        {
            var encoder = new RecordEncoder(appendNewLine: true, OversizeRecordAction.Truncate);
            var slab = new RecordSlab();
            string text = "{\"time\":\"2026-01-02T03:04:05Z\",\"level\":\"INFO\",\"message\":\"" + new string('m', 150) + "\"}";
            Encode(encoder, slab, text, out _, out _); // warm up: the JIT (its array is never reused: its reference is not taken)

            const int Count = 20_000;
            long data = 0;
            var batch = new List<BufferedRecord>(500);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Count; i++)
            {
                var builder = slab.Text();
                builder.Append(text);
                encoder.TryEncode(builder, Event, slab, out var bytes, out _, out _);
                data += bytes.Length;
                batch.Add(new BufferedRecord("s", bytes, 2, i, slab.TakeCommitted()));
                if (batch.Count == batch.Capacity)
                {
                    foreach (var record in batch)
                        record.Release(); // a call accepted them
                    batch.Clear();
                }
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            // Per event only the record object (~70 bytes); the 64 KiB arrays come back from the pool: a handful in all.
            long perEvent = (allocated - 8 * RecordSlab.Size) / Count;
            Assert.IsTrue(perEvent < 100, $"{allocated} bytes allocated for {Count} events ({data} bytes of records)");
        }

        [TestMethod]
        public void HeldRecord_KeepsItsArray_WhileOthersAreReleasedAndTheSlabMovesOn()
        {
            var encoder = new RecordEncoder(appendNewLine: false, OversizeRecordAction.Truncate);
            var slab = new RecordSlab();
            var held = new BufferedRecord("s", Encode(encoder, slab, "{\"held\":true}", out _, out _), 2, 0, slab.TakeCommitted());
            var arrays = new HashSet<byte[]>();
            for (int i = 0; i < 5_000; i++)
            {
                var record = new BufferedRecord("s", Encode(encoder, slab, "{\"n\":" + i + ",\"pad\":\"" + new string('p', 100) + "\"}", out _, out _), 2, i, slab.TakeCommitted());
                arrays.Add(ArrayOf(record.Data));
                record.Release();
            }

            Assert.AreEqual("{\"held\":true}", Encoding.UTF8.GetString(held.Data.ToArray()), "reused arrays never overwrite a record still held");
            Assert.IsTrue(arrays.Count <= 3, $"{arrays.Count} arrays for 5,000 records of ~120 bytes (~9 arrays' worth): released arrays are reused");
            held.Release();
            Assert.IsTrue(held.Data.IsEmpty);
            held.Release(); // twice is harmless
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
            var shared = new byte[RecordSlab.Size];
            Encoding.UTF8.GetBytes(new string('a', 100) + new string('b', 100) + new string('c', 100), 0, 300, shared, 0);
            var buffer = new MemoryRecordBuffer(maxBytes: 3 * (100 + BufferedRecord.Overhead), int.MaxValue, () => DateTime.UtcNow);
            var slab = new RecordSlab();
            var owner = new SlabBytes(slab, shared);
            var records = new List<BufferedRecord>();
            for (int i = 0; i < 3; i++)
            {
                owner.AddRef();
                records.Add(new BufferedRecord("s", new ReadOnlyMemory<byte>(shared, i * 100, 100), i == 1 ? LogLevel.Warn.Ordinal : LogLevel.Debug.Ordinal, i, owner));
            }
            buffer.AddRange(records);
            Assert.IsTrue(records.All(r => r.Shared), "below the bound: nothing copied");

            var newcomer = new BufferedRecord("s", new ReadOnlyMemory<byte>(new byte[300], 0, 100), LogLevel.Warn.Ordinal, 3, new SlabBytes(slab, new byte[300]));
            buffer.Add(newcomer); // drops the oldest Debug record

            Assert.AreEqual(3, buffer.Size.Records);
            var kept = new[] { records[1], records[2], newcomer };
            Assert.IsTrue(kept.All(r => !r.Shared && MemoryMarshal.TryGetArray(r.Data, out var s) && s.Offset == 0 && s.Array!.Length == 100));
            Assert.AreEqual(new string('b', 100), Encoding.UTF8.GetString(records[1].Data.ToArray()));
            Assert.AreEqual(new string('c', 100), Encoding.UTF8.GetString(records[2].Data.ToArray()));
            owner.Release(); // the writer's own reference: now nobody holds the shared array
            Assert.AreEqual(1, slab.FreeArrays, "the shared array went back to the pool once all three let go");
        }
    }
}
