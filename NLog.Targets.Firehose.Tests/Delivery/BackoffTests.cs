using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Delivery;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class BackoffTests
    {
        [TestMethod]
        public void Ceiling_DoublesUpToCap()
        {
            var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(1000), () => 1.0);
            Assert.AreEqual(100, backoff.Ceiling(0).TotalMilliseconds);
            Assert.AreEqual(200, backoff.Ceiling(1).TotalMilliseconds);
            Assert.AreEqual(800, backoff.Ceiling(3).TotalMilliseconds);
            Assert.AreEqual(1000, backoff.Ceiling(4).TotalMilliseconds);
            Assert.AreEqual(1000, backoff.Ceiling(1000).TotalMilliseconds);
        }

        [TestMethod]
        [DataRow(0.0, 0.0)]
        [DataRow(0.5, 200.0)]
        [DataRow(0.999, 399.6)]
        public void Next_FullJitter_ScalesCeilingByRandom(double random, double expectedMs)
        {
            var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), () => random);
            Assert.AreEqual(expectedMs, backoff.Next(2).TotalMilliseconds, 0.001);
        }
    }
}
