using System;
using System.Collections.Generic;
using System.IO;
using NLog.Common;

namespace NLog.Targets.Firehose.Internal.Durability
{
    /// <summary>The files of the durable buffer's segments: locks, deletes, acknowledgements, and letting go as a kill does.</summary>
    internal static class JournalFiles
    {
        /// <summary>The segment files in <paramref name="directory"/>, oldest first; none (and said) when it cannot be listed.</summary>
        public static string[] ListSegments(string directory, string journalName)
        {
            try
            {
                string[] files = Directory.GetFiles(directory, "*.seg");
                Array.Sort(files, StringComparer.Ordinal);
                return files;
            }
            catch (Exception ex) when (IsIoFailure(ex))
            {
                InternalLogger.Warn(ex, "{0}: could not list the buffer directory {1}", journalName, directory);
                return Array.Empty<string>();
            }
        }

        /// <summary>Forces what the files' handles hold to the device (on net8.0; older frameworks forced it when flushing).</summary>
        public static void ForceToDisk(List<Microsoft.Win32.SafeHandles.SafeFileHandle> handles)
        {
#if NET8_0_OR_GREATER
            foreach (var handle in handles)
            {
                try
                {
                    RandomAccess.FlushToDisk(handle);
                }
                catch (Exception ex) when (ex is ObjectDisposedException || IsIoFailure(ex))
                {
                    // Closed meanwhile (its segment finished or rolled, and was forced then): nothing left to force.
                }
            }
#else
            GC.KeepAlive(handles);
#endif
        }

        /// <summary>
        /// Reads a segment a gone process left (its lock taken: <paramref name="lockFile"/>): its records not acknowledged go
        /// into <paramref name="records"/>, numbered by <paramref name="sequence"/>. A torn or corrupt tail is skipped with a warning.
        /// Null for a segment of a newer format (a newer version of the target wrote it): it is said and left as it is, and
        /// its lock let go.
        /// </summary>
        public static JournalSegment? ReadSegment(string name, string basePath, FileStream lockFile, List<Buffering.BufferedRecord> records, Buffering.RecordSequence sequence, string journalName)
        {
            byte[] content = File.ReadAllBytes(basePath + ".seg");
            if (JournalFrame.IsNewerFormat(content))
            {
                InternalLogger.Warn("{0}: buffered segment {1}.seg was written by a newer version of the target (format {2}); it is left in place, unread, for that version",
                    journalName, basePath, System.Text.Encoding.ASCII.GetString(content, 0, 4));
                lockFile.Dispose(); // not this version's to read or delete
                return null;
            }
            var acked = ReadAcks(basePath + ".ack");
            var segment = new JournalSegment(name, basePath, lockFile) { Sealed = true, Length = content.Length };
            int index = 0;
            int offset = 0;
            while (offset < content.Length)
            {
                if (!JournalFrame.TryRead(content, ref offset, out int level, out string? stream, out byte[]? data))
                {
                    InternalLogger.Warn("{0}: buffered segment {1}.seg has a torn or corrupt tail at byte {2} of {3} after {4} records; the rest is skipped",
                        journalName, basePath, offset, content.Length, index);
                    break;
                }
                if (!acked.Contains(index))
                {
                    var record = new Buffering.BufferedRecord(stream!, data!, level, sequence.Next());
                    record.InJournal(segment, index);
                    records.Add(record);
                    segment.Outstanding++;
                }
                index++;
            }
            segment.Count = index;
            return segment;
        }

        /// <summary>
        /// Closes a file as a kill would leave it: the length the operating system has (what a stat sees) is kept, and
        /// the bytes the stream still buffered, which disposing it writes, are cut off again.
        /// </summary>
        public static void AbandonFile(FileStream? file, string path)
        {
            if (file is null)
                return;
            long onDisk = new FileInfo(path).Length;
            file.Dispose();
            using var truncate = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            truncate.SetLength(onDisk);
        }

        public static void CloseFiles(JournalSegment segment)
        {
            try
            {
                segment.Data?.Dispose();
                segment.Acks?.Dispose();
            }
            catch (IOException)
            {
                // flushing a failed disk: the files are abandoned anyway
            }
            segment.Data = null;
            segment.Acks = null;
        }

        public static void DeleteFiles(JournalSegment segment)
        {
            TryDelete(segment.BasePath + ".seg");
            TryDelete(segment.BasePath + ".ack");
            segment.Lock?.Dispose();
            TryDelete(segment.BasePath + ".lock");
        }

        public static FileStream? TryLock(string path)
        {
            try
            {
                // FileShare.None is an exclusive lock: LockFileEx on Windows, flock on Unix; the kernel drops it when the process dies.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
        }

        public static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (IsIoFailure(ex))
            {
                InternalLogger.Debug(ex, "Could not delete {0}", path);
            }
        }

        public static HashSet<int> ReadAcks(string path)
        {
            var acked = new HashSet<int>();
            if (!File.Exists(path))
                return acked;
            byte[] content = File.ReadAllBytes(path);
            for (int i = 0; i + 4 <= content.Length; i += 4)
                acked.Add(BitConverter.ToInt32(content, i)); // a torn last entry is ignored: its record is sent again
            return acked;
        }

        private static bool IsIoFailure(Exception ex) => DiskJournal.IsIoFailure(ex);
    }
}
