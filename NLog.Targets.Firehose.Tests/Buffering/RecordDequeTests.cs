using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Buffering;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public sealed class RecordDequeTests
    {
        private static BufferedRecord Record(int i) => new BufferedRecord("s", new byte[] { (byte)i }, 2, i);

        [TestMethod]
        public void BothEnds_ThroughWrapAroundAndGrowth_KeepOrder()
        {
            var deque = new RecordDeque();
            var expected = new System.Collections.Generic.List<long>();
            for (int round = 0; round < 5; round++)
            {
                for (int i = 0; i < 13; i++)
                {
                    deque.AddLast(Record(round * 100 + i));
                    expected.Add(round * 100 + i);
                }
                for (int i = 0; i < 7; i++)
                {
                    Assert.AreEqual(expected[0], deque.First!.Sequence);
                    deque.RemoveFirst();
                    expected.RemoveAt(0);
                }
                deque.AddFirst(Record(-round));
                expected.Insert(0, -round);
            }

            CollectionAssert.AreEqual(expected, deque.Select(r => r.Sequence).ToList());
            Assert.AreEqual(expected.Count, deque.Count);
            deque.Clear();
            Assert.IsNull(deque.First);
            Assert.ThrowsExactly<InvalidOperationException>(() => deque.RemoveFirst());
        }
    }
}
