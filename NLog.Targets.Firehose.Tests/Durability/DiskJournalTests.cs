using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Durability;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public sealed class DiskJournalTests
    {
        private TempDirectory _temp = null!;

        private string Root => _temp.Path;

        [TestInitialize]
        public void CreateDirectory() => _temp = new TempDirectory("fh-journal-");

        [TestCleanup]
        public void DeleteDirectory() => _temp.Dispose();

        private DiskJournal Journal(long maxBytes = 256L * 1024 * 1024) => new DiskJournal(Root, TimeSpan.Zero, maxBytes, "test");

        private static BufferedRecord Record(int i, string stream = "app-logs", int level = 2) =>
            new BufferedRecord(stream, Encoding.UTF8.GetBytes($"{{\"Seq\":{i}}}\n"), level, i);

        /// <summary>A process that appends <paramref name="count"/> records, forces them to disk and is killed.</summary>
        private void WriteThenDie(int count)
        {
            var journal = Journal();
            journal.Open();
            foreach (int i in Enumerable.Range(0, count))
                journal.Append(Record(i));
            journal.Flush();
            journal.Abandon();
        }

        /// <summary>The next process: opens the directory and reads back what is left.</summary>
        private (DiskJournal Journal, List<BufferedRecord> Recovered) Restart()
        {
            var journal = Journal();
            journal.Open();
            return (journal, journal.Recover());
        }

        private static List<string> Texts(IEnumerable<BufferedRecord> records) => records.Select(r => Encoding.UTF8.GetString(r.Data.ToArray())).ToList();

        [TestMethod]
        public void Recover_AfterAProcessWentAway_ReturnsWhatWasNotAcknowledgedOldestFirstWithStreamAndLevel()
        {
            var first = Journal();
            Assert.IsTrue(first.Open());
            var records = Enumerable.Range(0, 10).Select(i => Record(i, i % 2 == 0 ? "even" : "odd", i % 6)).ToList();
            foreach (var record in records)
                first.Append(record);
            first.Acknowledge(new[] { records[0], records[3], records[9] });
            first.Flush();
            first.Abandon();

            var second = Journal();
            Assert.IsTrue(second.Open());
            var recovered = second.Recover();

            CollectionAssert.AreEqual(Texts(records.Where((_, i) => i != 0 && i != 3 && i != 9)), Texts(recovered));
            CollectionAssert.AreEqual(new[] { "odd", "even", "even", "odd", "even", "odd", "even" }, recovered.Select(r => r.Stream).ToList());
            CollectionAssert.AreEqual(new[] { 1, 2, 4, 5, 0, 1, 2 }, recovered.Select(r => r.Level).ToList());
            second.Close();
        }

        [TestMethod]
        public void Abandon_AppendedSinceTheLastFlush_LostAsInAKilledProcess()
        {
            // Abandon stands for kill -9 in these tests: it must not push the streams' own buffers to disk as closing does.
            var first = Journal();
            Assert.IsTrue(first.Open());
            first.Append(Record(0));
            first.Flush();
            first.Append(Record(1)); // still in the file stream's buffer
            first.Abandon();

            var (second, recovered) = Restart();
            CollectionAssert.AreEqual(new[] { "{\"Seq\":0}\n" }, Texts(recovered), "only what was flushed survives: " + string.Join(",", Texts(recovered)));
            second.Close();
        }

        [TestMethod]
        public void Recover_RecoveredRecordsAcknowledged_SegmentDeletedAndNothingRecoveredNextTime()
        {
            WriteThenDie(5);

            var (second, recovered) = Restart();
            Assert.AreEqual(5, recovered.Count);
            second.Acknowledge(recovered);
            second.Close();

            Assert.AreEqual(0, Directory.GetFiles(Root).Length, string.Join(", ", Directory.GetFiles(Root)));
            var third = Journal();
            third.Open();
            Assert.AreEqual(0, third.Recover().Count);
            third.Close();
        }

        [TestMethod]
        public void Recover_SegmentOfANewerFormat_LeftInPlaceUnreadAndSaid()
        {
            // After a downgrade the older target must not read, or delete as empty, what a newer one buffered.
            WriteThenDie(3);
            string segment = Directory.GetFiles(Root, "*.seg").Single();
            byte[] content = File.ReadAllBytes(segment);
            content[3] = (byte)'2'; // FHB2: a later format
            File.WriteAllBytes(segment, content);
            using var log = new InternalLogCapture(LogLevel.Warn);

            var (second, recovered) = Restart();
            second.Close();
            var (third, again) = Restart();
            third.Close();

            Assert.AreEqual(0, recovered.Count + again.Count);
            CollectionAssert.AreEqual(content, File.ReadAllBytes(segment), "left as it was");
            StringAssert.Contains(log.Text, "was written by a newer version of the target (format FHB2); it is left in place");
        }

        [TestMethod]
        public void Recover_TornTail_RecordsBeforeItRecoveredAndTheTailSkippedWithAWarning()
        {
            WriteThenDie(20);
            string segment = Directory.GetFiles(Root, "*.seg").Single();
            long length = new FileInfo(segment).Length;
            using (var stream = new FileStream(segment, FileMode.Open))
                stream.SetLength(length - 5); // power loss in the middle of the last frame

            using var capture = new InternalLogCapture(LogLevel.Warn);
            var (second, recovered) = Restart();

            CollectionAssert.AreEqual(Texts(Enumerable.Range(0, 19).Select(i => Record(i))), Texts(recovered));
            StringAssert.Contains(capture.Text, "torn or corrupt tail");
            second.Close();
        }

        [TestMethod]
        public void Recover_CorruptBytesInTheMiddle_EarlierRecordsRecoveredNothingCorruptDelivered()
        {
            WriteThenDie(20);
            string segment = Directory.GetFiles(Root, "*.seg").Single();
            byte[] content = File.ReadAllBytes(segment);
            int frame = content.Length / 20;
            content[frame * 10 + 20] ^= 0xFF; // flip a data byte of record 10: its CRC no longer matches
            File.WriteAllBytes(segment, content);

            using var capture = new InternalLogCapture(LogLevel.Warn);
            var (second, recovered) = Restart();

            CollectionAssert.AreEqual(Texts(Enumerable.Range(0, 10).Select(i => Record(i))), Texts(recovered));
            StringAssert.Contains(capture.Text, "torn or corrupt tail");
            second.Close();
        }

        [TestMethod]
        public void Recover_GarbageFile_NeverThrowsAndRecoversNothing()
        {
            Directory.CreateDirectory(Root);
            File.WriteAllBytes(Path.Combine(Root, "00000000T000000000000-garbage.seg"), Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray());
            File.WriteAllBytes(Path.Combine(Root, "00000000T000000000000-garbage.ack"), new byte[] { 1, 2, 3 });

            var journal = Journal();
            journal.Open();
            Assert.AreEqual(0, journal.Recover().Count);
            journal.Close();
        }

        [TestMethod]
        public void Recover_SegmentOfALiveProcess_LeftAlone()
        {
            var live = Journal();
            live.Open();
            foreach (int i in Enumerable.Range(0, 5))
                live.Append(Record(i));
            live.Flush();

            var other = Journal();
            other.Open();
            Assert.AreEqual(0, other.Recover().Count, "the live journal's segment is locked");
            other.Close();

            live.Acknowledge(Enumerable.Range(0, 5).Select(i => Record(i)).ToList()); // records without a segment are ignored
            Assert.IsTrue(Directory.GetFiles(Root, "*.seg").Length >= 1);
            live.Close();
        }

        [TestMethod]
        public void Append_PastTheDiskBound_OldestSegmentsDeletedAndTheirOutstandingRecordsCounted()
        {
            var journal = Journal(maxBytes: 16L * 1024 * 1024);
            journal.Open();
            var big = new byte[500 * 1024];
            int appended = 0;
            for (; appended < 100; appended++)
                journal.Append(new BufferedRecord("app-logs", big, 2, appended));

            long onDisk = Directory.GetFiles(Root, "*.seg").Sum(f => new FileInfo(f).Length);
            Assert.IsTrue(onDisk <= 16L * 1024 * 1024 + 2 * 1024 * 1024, $"{onDisk} bytes on disk");
            Assert.IsTrue(journal.UnprotectedRecords > 0);
            Assert.IsTrue(journal.Bytes <= 16L * 1024 * 1024 + 2 * 1024 * 1024);
            journal.Close();
        }

        [TestMethod]
        public void Append_RolledSegmentFullyAcknowledged_Deleted()
        {
            var journal = Journal(maxBytes: 16L * 1024 * 1024);
            journal.Open();
            var big = new byte[500 * 1024];
            var records = Enumerable.Range(0, 10).Select(i => new BufferedRecord("app-logs", big, 2, i)).ToList();
            foreach (var record in records)
                journal.Append(record);
            Assert.IsTrue(Directory.GetFiles(Root, "*.seg").Length >= 2, "the segment rolled");

            journal.Acknowledge(records);

            Assert.AreEqual(1, Directory.GetFiles(Root, "*.seg").Length, "only the current segment is left");
            Assert.AreEqual(0, journal.Close());
            Assert.AreEqual(0, Directory.GetFiles(Root).Length);
        }

        [TestMethod]
        public void Open_DirectoryCannotBeCreated_FalseWithOneWarning()
        {
            Directory.CreateDirectory(Root);
            string file = Path.Combine(Root, "a-file");
            File.WriteAllText(file, "not a directory");
            using var capture = new InternalLogCapture(LogLevel.Warn);

            var journal = new DiskJournal(Path.Combine(file, "buffer"), TimeSpan.FromSeconds(1), 256L * 1024 * 1024, "test");

            Assert.IsFalse(journal.Open());
            Assert.IsFalse(journal.IsWriting);
            journal.Append(Record(1)); // ignored, never throws
            StringAssert.Contains(capture.Text, "keeping events in memory only");
            Assert.AreEqual(1, capture.Text.Split("keeping events in memory only").Length - 1);
        }
    }
}
