using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    public class BatchPlannerTests
    {
        private static List<(int Start, int Count)> Plan(IEnumerable<int> sizes)
        {
            var records = sizes.Select((s, i) => new BufferedRecord("s", new byte[s], 2, i)).ToList();
            var batches = new List<(int, int)>();
            for (int start = 0; start < records.Count;)
            {
                int count = BatchPlanner.NextCallSize(records, start, FirehoseLimits.MaxRecordsPerCall, FirehoseLimits.MaxBytesPerCall);
                batches.Add((start, count));
                start += count;
            }
            return batches;
        }

        [TestMethod]
        public void Plan_500Records_OneCall()
        {
            CollectionAssert.AreEqual(new[] { (0, 500) }, Plan(Enumerable.Repeat(10, 500)));
        }

        [TestMethod]
        public void Plan_501Records_SplitsAt500()
        {
            CollectionAssert.AreEqual(new[] { (0, 500), (500, 1) }, Plan(Enumerable.Repeat(10, 501)));
        }

        [TestMethod]
        public void Plan_ExactlyByteLimit_OneCall()
        {
            // 4 × 1,000,000 = 4,000,000 bytes: exactly the cap.
            CollectionAssert.AreEqual(new[] { (0, 4) }, Plan(Enumerable.Repeat(1_000_000, 4)));
        }

        [TestMethod]
        public void Plan_OneByteOverByteLimit_Splits()
        {
            CollectionAssert.AreEqual(new[] { (0, 4), (4, 1) }, Plan(Enumerable.Repeat(1_000_000, 4).Append(1)));
        }

        [TestMethod]
        public void Plan_MaximumRecords_EveryCallWithinLimitsAndInOrder()
        {
            var sizes = Enumerable.Repeat(FirehoseLimits.MaxRecordBytes, 9).ToList();
            var batches = Plan(sizes);
            Assert.IsTrue(batches.All(b => b.Count * (long)FirehoseLimits.MaxRecordBytes <= FirehoseLimits.MaxBytesPerCall));
            Assert.AreEqual(9, batches.Sum(b => b.Count));
            for (int i = 1; i < batches.Count; i++)
                Assert.AreEqual(batches[i - 1].Start + batches[i - 1].Count, batches[i].Start);
        }

        [TestMethod]
        public void Plan_NoRecords_NoCall()
        {
            Assert.AreEqual(0, Plan(Enumerable.Empty<int>()).Count);
        }
    }
}
