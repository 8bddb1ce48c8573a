using System;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.StandIn;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// The stand-in's benchmark mode (<see cref="FirehoseStandIn.DeferChecks"/>): calls answered unchecked are checked and
    /// stored later, and what is wrong with them still shows as a violation.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public sealed class StandInDeferredChecksTests
    {
        private static BufferedRecord[] Records(int count) =>
            Enumerable.Range(0, count).Select(i => new BufferedRecord("app-logs", Encoding.UTF8.GetBytes("event " + i + "\n"), 2, i)).ToArray();

        private static async Task<FirehoseStandIn> DeferringStandInAsync()
        {
            var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.DeferChecks = true;
            return standIn;
        }

        private static FirehoseHttpClient Client(FirehoseStandIn standIn, string secret) =>
            new FirehoseHttpClient(new FirehoseEndpoint(standIn.Url, "us-east-1", isConfigured: true),
                new Amazon.Runtime.BasicAWSCredentials(FirehoseStandIn.DefaultAccessKey, secret), TimeSpan.FromSeconds(30), "fh");

        [TestMethod]
        public async Task DeferChecks_CallsAnsweredAtOnce_CheckedAndStoredWhenCompleted()
        {
            await using var standIn = await DeferringStandInAsync();
            using var client = Client(standIn, FirehoseStandIn.DefaultSecretKey);

            var result = await client.PutRecordBatchAsync("app-logs", Records(3), CancellationToken.None);

            Assert.AreEqual(0, result.FailedPutCount);
            Assert.AreEqual(0, standIn.Records("app-logs").Count, "nothing parsed or stored yet");
            Assert.AreEqual(1, standIn.CompleteDeferredChecks());
            CollectionAssert.AreEqual(new[] { "event 0\n", "event 1\n", "event 2\n" }, standIn.Records("app-logs").Select(r => Encoding.UTF8.GetString(r)).ToArray());
            Assert.AreEqual(0, standIn.Violations.Count, string.Join("; ", standIn.Violations));
        }

        [TestMethod]
        public async Task DeferChecks_WrongSecret_IsAViolationWhenCompleted_NothingStored()
        {
            await using var standIn = await DeferringStandInAsync();
            using var client = Client(standIn, "not-the-secret");

            await client.PutRecordBatchAsync("app-logs", Records(2), CancellationToken.None);
            standIn.CompleteDeferredChecks();

            Assert.AreEqual(0, standIn.Records("app-logs").Count);
            StringAssert.Contains(string.Join("; ", standIn.Violations), "deferred: The request signature we calculated does not match");
        }

        [TestMethod]
        public async Task DeferChecks_WithAFaultSet_CallsAreCheckedAsTheyCome()
        {
            await using var standIn = await DeferringStandInAsync();
            standIn.Faults.InternalErrorRate = 1;
            using var client = Client(standIn, FirehoseStandIn.DefaultSecretKey);

            var error = await Assert.ThrowsExactlyAsync<FirehoseServiceException>(() => client.PutRecordBatchAsync("app-logs", Records(1), CancellationToken.None));

            Assert.AreEqual(500, error.StatusCode);
            Assert.AreEqual(0, standIn.CompleteDeferredChecks());
        }
    }
}
