using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Diagnostics;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class MemoryRecordBufferTests
    {
        private static readonly string[] None = Array.Empty<string>();
        private long _sequence;

        private BufferedRecord Record(LogLevel level, int bytes = 36, string stream = "s") => new BufferedRecord(stream, new byte[bytes], level.Ordinal, _sequence++);

        private static MemoryRecordBuffer Buffer(long maxBytes = long.MaxValue, int maxRecords = int.MaxValue) => new MemoryRecordBuffer(maxBytes, maxRecords, () => new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        /// <summary>The calls the delivery pipeline would make of <paramref name="sizes"/>: TakeCall with the service's limits, each completed.</summary>
        private List<int> Calls(IEnumerable<int> sizes)
        {
            var buffer = new MemoryRecordBuffer(64L * 1024 * 1024, 200_000, () => DateTime.UtcNow); // the target's default bounds
            foreach (int size in sizes)
                Assert.IsTrue(buffer.Add(Record(LogLevel.Info, size)));
            var calls = new List<int>();
            while (true)
            {
                var call = buffer.TakeCall(None, FirehoseLimits.MaxRecordsPerCall, FirehoseLimits.MaxBytesPerCall);
                if (call.Count == 0)
                    return calls;
                Assert.IsTrue(call.Sum(r => (long)r.Data.Length) <= FirehoseLimits.MaxBytesPerCall);
                calls.Add(call.Count);
                buffer.Complete(call);
            }
        }

        [TestMethod]
        public void TakeCall_500Records_OneCall() => CollectionAssert.AreEqual(new[] { 500 }, Calls(Enumerable.Repeat(10, 500)));

        [TestMethod]
        public void TakeCall_501Records_SplitsAt500() => CollectionAssert.AreEqual(new[] { 500, 1 }, Calls(Enumerable.Repeat(10, 501)));

        [TestMethod]
        public void TakeCall_Exactly4000000Bytes_OneCall() => CollectionAssert.AreEqual(new[] { 4 }, Calls(Enumerable.Repeat(1_000_000, 4)));

        [TestMethod]
        public void TakeCall_OneByteOver4000000Bytes_Splits() => CollectionAssert.AreEqual(new[] { 4, 1 }, Calls(Enumerable.Repeat(1_000_000, 4).Append(1)));

        [TestMethod]
        public void TakeCall_LargestRecords_ThreeOf1024000BytesPerCall() =>
            CollectionAssert.AreEqual(new[] { 3, 3, 3 }, Calls(Enumerable.Repeat(FirehoseLimits.MaxRecordBytes, 9)));

        [TestMethod]
        public void TakeCall_NoRecords_NoCall() => Assert.AreEqual(0, Calls(Enumerable.Empty<int>()).Count);

        [TestMethod]
        public void Take_MixedLevels_OldestFirstAcrossLevels()
        {
            var buffer = Buffer();
            var records = new[] { Record(LogLevel.Info), Record(LogLevel.Debug), Record(LogLevel.Error), Record(LogLevel.Info) };
            foreach (var r in records)
                buffer.Add(r);

            CollectionAssert.AreEqual(records, buffer.TakeCall(None, 10, int.MaxValue));
        }

        [TestMethod]
        public void Add_RecordBoundHit_DropsOldestDebugThenInfoThenWarn()
        {
            var buffer = Buffer(maxRecords: 3);
            var info = Record(LogLevel.Info);
            var debug = Record(LogLevel.Debug);
            var warn = Record(LogLevel.Warn);
            buffer.Add(info);
            buffer.Add(debug);
            buffer.Add(warn);

            Assert.IsTrue(buffer.Add(Record(LogLevel.Error)), "an Error evicts the Debug");
            Assert.IsTrue(buffer.Add(Record(LogLevel.Info)), "an Info evicts the older Info");
            Assert.IsFalse(buffer.Add(Record(LogLevel.Trace)), "a Trace is less important than everything held");

            var left = buffer.TakeCall(None, 10, int.MaxValue);
            CollectionAssert.AreEqual(new[] { LogLevel.Warn.Ordinal, LogLevel.Error.Ordinal, LogLevel.Info.Ordinal }, left.Select(r => r.Level).ToArray());
            var report = buffer.Drops.TakeReport()!;
            Assert.AreEqual(1, report.ByLevel[LogLevel.Trace.Ordinal]);
            Assert.AreEqual(1, report.ByLevel[LogLevel.Debug.Ordinal]);
            Assert.AreEqual(1, report.ByLevel[LogLevel.Info.Ordinal]);
            Assert.AreEqual(3, report.Total);
            Assert.IsNull(buffer.Drops.TakeReport(), "the report period restarts");
        }

        [TestMethod]
        public void Add_ByteBoundHit_DropsToStayWithinBytes()
        {
            var statistics = new TargetStatistics();
            var buffer = new MemoryRecordBuffer(10 * (100 + BufferedRecord.Overhead), int.MaxValue, () => DateTime.UtcNow, statistics);
            for (int i = 0; i < 25; i++)
                buffer.Add(Record(LogLevel.Info, 100));

            var (records, bytes) = buffer.Size;
            Assert.AreEqual(10, records);
            Assert.IsTrue(bytes <= 10 * (100 + BufferedRecord.Overhead));
            Assert.AreEqual(15, statistics.QueueDroppedEvents);
            Assert.AreEqual(15L, buffer.TakeCall(None, 100, int.MaxValue).First().Sequence, "the oldest were dropped");
        }

        [TestMethod]
        public void Take_RecordsInFlightStillCountAgainstBounds()
        {
            var buffer = Buffer(maxRecords: 2);
            buffer.Add(Record(LogLevel.Error));
            buffer.Add(Record(LogLevel.Error));
            var taken = buffer.TakeCall(None, 2, int.MaxValue);

            Assert.IsFalse(buffer.Add(Record(LogLevel.Error)), "nothing queued to evict; the arriving record is dropped");
            buffer.Complete(taken);
            Assert.IsTrue(buffer.Add(Record(LogLevel.Error)));
        }

        [TestMethod]
        public void Return_UndeliveredRecords_GoFirstInTheirOrder()
        {
            var buffer = Buffer();
            for (int i = 0; i < 5; i++)
                buffer.Add(Record(LogLevel.Info));
            var taken = buffer.TakeCall(None, 3, int.MaxValue);
            buffer.Return(new[] { taken[2], taken[0] });

            CollectionAssert.AreEqual(new long[] { 0, 2, 3, 4 }, buffer.TakeCall(None, 10, int.MaxValue).Select(r => r.Sequence).ToArray());
        }

        [TestMethod]
        public void Take_PausedStream_Skipped()
        {
            var buffer = Buffer();
            buffer.Add(Record(LogLevel.Info, stream: "down"));
            buffer.Add(Record(LogLevel.Info, stream: "up"));

            var taken = buffer.TakeCall(new HashSet<string> { "down" }, 10, int.MaxValue);
            Assert.AreEqual("up", taken.Single().Stream);
            Assert.IsFalse(buffer.HasDeliverable(new HashSet<string> { "down" }));
            Assert.IsTrue(buffer.HasDeliverable(None));
        }

        [TestMethod]
        public void HeldByLevel_CountsRecordsInFlightUntilCompleted()
        {
            // SIGTERM reported the queued records by level, leaving out those in flight: the levels summed to less than the total.
            var buffer = Buffer();
            buffer.Add(Record(LogLevel.Info));
            buffer.Add(Record(LogLevel.Info));
            buffer.Add(Record(LogLevel.Error));

            var call = buffer.TakeCall(None, 2, int.MaxValue);
            Assert.AreEqual(2, buffer.HeldByLevel()[LogLevel.Info.Ordinal], "in flight, still held");
            buffer.Return(call.GetRange(1, 1));
            buffer.Complete(call.GetRange(0, 1));
            var held = buffer.HeldByLevel();
            Assert.AreEqual(1, held[LogLevel.Info.Ordinal]);
            Assert.AreEqual(1, held[LogLevel.Error.Ordinal]);
            Assert.AreEqual(buffer.Size.Records, held.Total);
        }

        [TestMethod]
        public void DropAllQueued_CountsPerLevelAndEmpties()
        {
            var buffer = Buffer();
            buffer.Add(Record(LogLevel.Info));
            buffer.Add(Record(LogLevel.Error));
            buffer.Add(Record(LogLevel.Error));

            var dropped = buffer.DropAllQueued();
            Assert.AreEqual(1, dropped[LogLevel.Info.Ordinal]);
            Assert.AreEqual(2, dropped[LogLevel.Error.Ordinal]);
            Assert.AreEqual((0, 0L), buffer.Size);
        }
    }
}
