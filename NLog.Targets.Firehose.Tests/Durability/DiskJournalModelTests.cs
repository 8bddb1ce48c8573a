using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Durability;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// The durable buffer against a model of what must come back (CsCheck: random sequences, shrunk to the shortest that
    /// fails, with a seed that replays it: set <c>CsCheck_Seed</c>). A run appends records, acknowledges some, forces the
    /// files, and is killed (the files as the operating system has them) and restarted, in any order. After every
    /// restart: each record forced to disk and not acknowledged comes back exactly once; a record appended since the last
    /// force may come back or not (a kill may leave part of it), once at most; an acknowledged record never comes back.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public sealed class DiskJournalModelTests
    {
        private enum Step
        {
            Append,
            Acknowledge,
            Force,
            KillAndRestart,
        }

        private static readonly Gen<(Step Step, int Count, int Pick)[]> Runs =
            Gen.Select(Gen.Enum<Step>(), Gen.Int[1, 40], Gen.Int[0, 1_000]).Array[1, 40];

        [TestMethod]
        public void AnySequenceOfAppendsAcknowledgementsForcesAndKills_WhatComesBackIsWhatTheModelAllows()
        {
            Runs.Sample(Run, iter: 2_000, threads: 1, print: run => string.Join(", ", run.Select(s => $"{s.Step}({s.Count},{s.Pick})")));
        }

        private static void Run((Step Step, int Count, int Pick)[] steps)
        {
            using var directory = new TempDirectory("fh-model-");
            var journal = Start(directory.Path, out _);
            var live = new List<BufferedRecord>();  // held by this process: appended or recovered, not acknowledged
            var forced = new HashSet<long>();       // on disk, not acknowledged: must come back
            var appended = new HashSet<long>();     // appended since the last force: may come back
            var acknowledged = new HashSet<long>(); // must never come back
            long next = 0;
            try
            {
                foreach (var (step, count, pick) in steps)
                {
                    switch (step)
                    {
                        case Step.Append:
                            for (int i = 0; i < count; i++, next++)
                            {
                                var record = new BufferedRecord("s" + (next % 3), Encoding.UTF8.GetBytes("{\"id\":" + next + ",\"pad\":\"" + new string('x', (int)(next * 37 % 300)) + "\"}\n"), (int)(next % 6), next);
                                journal.Append(record);
                                live.Add(record);
                                appended.Add(next);
                            }
                            break;
                        case Step.Acknowledge:
                            if (live.Count == 0)
                                break;
                            int every = 1 + pick % 3;
                            var done = live.Where((_, i) => (i + pick) % every == 0).Take(count).ToList();
                            journal.Acknowledge(done);
                            foreach (var record in done)
                            {
                                long id = Id(record);
                                live.Remove(record);
                                forced.Remove(id);
                                appended.Remove(id);
                                acknowledged.Add(id);
                            }
                            break;
                        case Step.Force:
                            journal.Flush();
                            forced.UnionWith(appended);
                            appended.Clear();
                            break;
                        case Step.KillAndRestart:
                            journal.Abandon();
                            journal = Start(directory.Path, out var recovered);
                            var ids = recovered.Select(Id).ToList();
                            Assert.AreEqual(ids.Count, ids.Distinct().Count(), "a record came back twice: " + string.Join(",", ids));
                            var back = new HashSet<long>(ids);
                            Assert.IsTrue(forced.IsSubsetOf(back), "forced to disk and lost: " + string.Join(",", forced.Except(back)));
                            Assert.IsFalse(back.Overlaps(acknowledged), "acknowledged and back: " + string.Join(",", back.Intersect(acknowledged)));
                            Assert.IsTrue(back.IsSubsetOf(forced.Union(appended)), "never appended: " + string.Join(",", back.Except(forced).Except(appended)));
                            foreach (var record in recovered)
                                Assert.AreEqual("s" + (Id(record) % 3), record.Stream, "the record's stream");
                            live = recovered;
                            forced = back; // on disk in the old segments
                            appended.Clear();
                            break;
                    }
                }
            }
            finally
            {
                journal.Close();
            }
        }

        private static DiskJournal Start(string directory, out List<BufferedRecord> recovered)
        {
            var journal = new DiskJournal(directory, TimeSpan.Zero, 256L * 1024 * 1024, "model");
            Assert.IsTrue(journal.Open());
            recovered = journal.Recover();
            return journal;
        }

        private static long Id(BufferedRecord record)
        {
            string text = Encoding.UTF8.GetString(record.Data.ToArray());
            int start = text.IndexOf(':') + 1;
            return long.Parse(text.Substring(start, text.IndexOf(',') - start), System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
