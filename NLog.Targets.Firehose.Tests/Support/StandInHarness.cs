using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using NLog.Targets.Firehose.StandIn;

namespace NLog.Targets.Firehose.Tests.Support
{
    internal static class StandInHarness
    {
        /// <summary>A target that talks to <paramref name="standIn"/> over real HTTP.</summary>
        public static FirehoseTarget Target(FirehoseStandIn standIn, string stream = "app-logs") => new FirehoseTarget
        {
            Name = "fh",
            DeliveryStreamName = stream,
            Region = "us-east-1",
            ServiceUrl = standIn.Url.ToString(),
        };

        /// <summary>The fault mix of the issue's acceptance check: 15% throttled calls, 20% failed records, 5% dropped connections.</summary>
        public static void InjectFaultMix(FirehoseStandIn standIn)
        {
            standIn.Faults.ThrottleCallRate = 0.15;
            standIn.Faults.FailedRecordRate = 0.20;
            standIn.Faults.DropConnectionRate = 0.05;
        }

        /// <summary>The <c>Seq</c> property of every record of <paramref name="stream"/>, counted.</summary>
        public static Dictionary<int, int> SequenceCounts(FirehoseStandIn standIn, string stream)
        {
            var counts = new Dictionary<int, int>();
            foreach (var record in standIn.Records(stream))
            {
                using var doc = JsonDocument.Parse(record);
                int seq = doc.RootElement.GetProperty("Seq").GetInt32();
                counts[seq] = counts.TryGetValue(seq, out int n) ? n + 1 : 1;
            }
            return counts;
        }

        /// <summary>
        /// Asserts that every event 0..<paramref name="total"/>-1 arrived, and compares duplicates as sets of sequence
        /// numbers: every record the stand-in stored for a call whose answer it then dropped arrived twice (the target sent
        /// it again), and every duplicate belongs to a call whose outcome the target could not know (<paramref name="recorder"/>),
        /// at most once more per such call.
        /// </summary>
        public static void AssertAllDeliveredDuplicatesOnlyFromLostAnswers(FirehoseStandIn standIn, string stream, int total, AmbiguousCallRecorder recorder, string label = "")
        {
            var counts = SequenceCounts(standIn, stream);
            var missing = Enumerable.Range(0, total).Where(i => !counts.ContainsKey(i)).ToList();
            Microsoft.VisualStudio.TestTools.UnitTesting.Assert.AreEqual(0, missing.Count, $"{label}missing {missing.Count} (first {string.Join(",", missing.Take(5))})");

            var ambiguous = new Dictionary<int, int>();
            foreach (var record in recorder.AmbiguousRecords)
            {
                int seq = Seq(record);
                ambiguous[seq] = ambiguous.TryGetValue(seq, out int n) ? n + 1 : 1;
            }
            var unexplained = counts.Where(kv => kv.Value - 1 > (ambiguous.TryGetValue(kv.Key, out int n) ? n : 0)).Select(kv => kv.Key).ToList();
            Microsoft.VisualStudio.TestTools.UnitTesting.Assert.AreEqual(0, unexplained.Count,
                $"{label}{unexplained.Count} events arrived more often than the calls of unknown outcome explain (first {string.Join(",", unexplained.Take(5))})");
            var notResent = standIn.StoredThenDroppedRecords.Select(Seq).Where(seq => counts[seq] < 2).ToList();
            Microsoft.VisualStudio.TestTools.UnitTesting.Assert.AreEqual(0, notResent.Count,
                $"{label}{notResent.Count} records stored for a call whose answer was lost did not arrive again (first {string.Join(",", notResent.Take(5))})");
        }

        private static int Seq(byte[] record)
        {
            using var doc = JsonDocument.Parse(record);
            return doc.RootElement.GetProperty("Seq").GetInt32();
        }

        /// <summary>Describes which sequence numbers in 0..<paramref name="expected"/>-1 are missing or duplicated.</summary>
        public static string ExactlyOnceReport(Dictionary<int, int> counts, int expected)
        {
            var missing = Enumerable.Range(0, expected).Where(i => !counts.ContainsKey(i)).ToList();
            var duplicated = counts.Where(kv => kv.Value > 1).Select(kv => kv.Key).ToList();
            var unexpected = counts.Keys.Where(k => k < 0 || k >= expected).ToList();
            if (missing.Count == 0 && duplicated.Count == 0 && unexpected.Count == 0)
                return string.Empty;
            var sb = new StringBuilder();
            sb.Append($"missing {missing.Count} (first {string.Join(",", missing.Take(5))}); ");
            sb.Append($"duplicated {duplicated.Count} (first {string.Join(",", duplicated.Take(5))}); ");
            sb.Append($"unexpected {unexpected.Count}");
            return sb.ToString();
        }
    }
}
