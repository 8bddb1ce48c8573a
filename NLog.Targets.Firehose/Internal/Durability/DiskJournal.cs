using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using NLog.Common;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;

namespace NLog.Targets.Firehose.Internal.Durability
{
    /// <summary>
    /// The durable buffer: every record is appended to a segment file before it is sent, and every record that is done
    /// with (accepted, refused for good, or dropped by the bounds) is appended to the segment's acknowledgement file, so
    /// after a crash only the records that were not done are read back. A segment whose records are all done is deleted.
    /// <para>
    /// Files, in the buffer directory, per segment: <c>NAME.seg</c> (frames: magic, length, CRC-32, then level, stream and
    /// data), <c>NAME.ack</c> (the 4-byte index of each record done with) and <c>NAME.lock</c>, held open exclusively by the
    /// process that owns the segment. Names start with the UTC time, so they sort oldest first. A process adopts only
    /// segments whose lock it can take: those of processes that are gone; segments of a live process sharing the
    /// directory are left alone.
    /// </para>
    /// <para>
    /// Appends go to the operating system at every <see cref="FlushInterval"/> (and are forced to the device then), so a
    /// process killed later loses none of them; acknowledgements go to the operating system at once, so a killed process
    /// resends only the records it had in flight.
    /// </para>
    /// </summary>
    internal sealed class DiskJournal : IDisposable
    {
        private readonly object _lock = new object();
        private readonly string _directory;
        private readonly long _maxBytes;
        private readonly long _segmentBytes;
        private readonly string _name;
        private readonly LinkedList<JournalSegment> _segments = new LinkedList<JournalSegment>();
        private Timer? _timer;
        private JournalSegment? _current;
        private bool _failed;
        private bool _closed;
        private bool _dirty;
        private long _bytes;
        private long _unprotected;

        public DiskJournal(string directory, TimeSpan flushInterval, long maxBytes, string name)
        {
            _directory = directory;
            FlushInterval = flushInterval;
            _maxBytes = maxBytes;
            _segmentBytes = Math.Max(FirehoseLimits.MaxRecordBytes * 2L, Math.Min(8L * 1024 * 1024, maxBytes / 8));
            _name = name;
        }

        public TimeSpan FlushInterval { get; }

        /// <summary>The buffer directory (a full path).</summary>
        public string DirectoryPath => _directory;

        /// <summary>Whether records are still written to disk (false after the directory failed: memory only).</summary>
        public bool IsWriting
        {
            get
            {
                lock (_lock)
                    return !_failed;
            }
        }

        /// <summary>Records whose segment was deleted to stay within the disk bound before they were done: they are still delivered from memory, but no longer survive a crash.</summary>
        public long UnprotectedRecords => Interlocked.Read(ref _unprotected);

        /// <summary>Bytes of segment files held.</summary>
        public long Bytes
        {
            get
            {
                lock (_lock)
                    return _bytes;
            }
        }

        /// <summary>
        /// Creates the directory and this process's first segment. Returns false, having said why once in InternalLogger,
        /// when the directory cannot be written: the target then keeps records in memory only.
        /// </summary>
        public bool Open()
        {
            try
            {
                Directory.CreateDirectory(_directory);
                lock (_lock)
                    _current = StartSegment();
            }
            catch (Exception ex) when (IsIoFailure(ex))
            {
                Fail(ex, "cannot be written");
                return false;
            }
            if (FlushInterval > TimeSpan.Zero)
                _timer = new Timer(_ => Flush(), null, FlushInterval, FlushInterval);
            return true;
        }

        /// <summary>
        /// Reads back the records of segments left by processes that are gone (including this one's earlier runs), oldest
        /// first, leaving out those acknowledged, numbered by <paramref name="sequence"/> in that order. A torn or corrupt
        /// tail is skipped with a warning.
        /// </summary>
        public List<BufferedRecord> Recover(RecordSequence? sequence = null)
        {
            sequence ??= new RecordSequence();
            var records = new List<BufferedRecord>();
            foreach (string file in JournalFiles.ListSegments(_directory, _name))
            {
                string name = Path.GetFileNameWithoutExtension(file);
                if (_current != null && name == _current.Name)
                    continue;
                try
                {
                    RecoverSegment(name, records, sequence);
                }
                catch (Exception ex) when (IsIoFailure(ex))
                {
                    InternalLogger.Warn(ex, "{0}: could not read the buffered segment {1}; it is left in place", _name, file);
                }
            }
            return records;
        }

        private void RecoverSegment(string name, List<BufferedRecord> records, RecordSequence sequence)
        {
            string basePath = Path.Combine(_directory, name);
            FileStream? lockFile = JournalFiles.TryLock(basePath + ".lock");
            if (lockFile is null)
                return; // a live process owns it
            if (!File.Exists(basePath + ".seg"))
            {
                lockFile.Dispose();
                JournalFiles.TryDelete(basePath + ".lock");
                return; // another process finished it meanwhile
            }

            int before = records.Count;
            var segment = JournalFiles.ReadSegment(name, basePath, lockFile, records, sequence, _name);
            if (segment is null)
                return; // a newer version's: left as it is, its lock let go

            lock (_lock)
            {
                if (segment.Outstanding == 0)
                {
                    DeleteSegment(segment);
                    return;
                }
                segment.Acks = new FileStream(basePath + ".ack", FileMode.Append, FileAccess.Write, FileShare.Read);
                _segments.AddFirst(segment); // older than this process's own
                _bytes += segment.Length;
            }
            InternalLogger.Info("{0}: recovered {1} undelivered events from the buffered segment {2}.seg", _name, records.Count - before, basePath);
        }

        /// <summary>Appends a record to the current segment (it goes to disk at the next flush). Never throws.</summary>
        public void Append(BufferedRecord record)
        {
            lock (_lock)
            {
                if (_failed || _closed || _current is null)
                    return;
                try
                {
                    if (_current.Length >= _segmentBytes)
                    {
                        _current.Data!.Flush(true);
                        _current.Data.Dispose();
                        _current.Data = null;
                        _current.Sealed = true;
                        var full = _current;
                        _current = StartSegment();
                        if (full.Outstanding == 0)
                            DeleteSegment(full);
                        EnforceBound();
                    }
                    int length = JournalFrame.Write(_current.Data!, record);
                    record.InJournal(_current, _current.Count++);
                    _current.Outstanding++;
                    _current.Length += length;
                    _bytes += length;
                    _dirty = true;
                }
                catch (Exception ex) when (IsIoFailure(ex))
                {
                    Fail(ex, "could not be written to");
                }
            }
        }

        /// <summary>Records that are done with: acknowledged on disk at once (to the operating system); finished segments are deleted. Never throws.</summary>
        public void Acknowledge(IReadOnlyList<BufferedRecord> records)
        {
            lock (_lock)
            {
                if (_closed)
                    return; // a call that outlived the close: its records stay outstanding on disk
                JournalSegment? last = null;
                foreach (var record in records)
                {
                    var segment = (JournalSegment?)record.Segment;
                    if (segment is null || segment.Deleted)
                        continue;
                    int index = record.Index;
                    record.InJournal(null, index); // done with: acknowledged once
                    try
                    {
                        if (segment.Acks is null)
                            segment.Acks = new FileStream(segment.BasePath + ".ack", FileMode.Append, FileAccess.Write, FileShare.Read);
                        JournalFrame.WriteInt(segment.Acks, index);
                    }
                    catch (Exception ex) when (IsIoFailure(ex))
                    {
                        InternalLogger.Debug(ex, "{0}: could not acknowledge a record in {1}.ack", _name, segment.BasePath);
                    }
                    segment.Outstanding--;
                    if (last != null && last != segment)
                        Finish(last);
                    last = segment;
                }
                if (last != null)
                {
                    Finish(last);
                    _dirty = true;
                }
            }
        }

        /// <summary>
        /// Pushes appended records and acknowledgements to the operating system, then forces them to the device. The
        /// forcing (fsync, slow on a busy disk) happens outside the lock on .NET 8, so appends never wait for it.
        /// </summary>
        public void Flush()
        {
            var handles = new List<Microsoft.Win32.SafeHandles.SafeFileHandle>();
            lock (_lock)
            {
                if (!_dirty)
                    return;
                _dirty = false;
                try
                {
                    if (_current?.Data != null)
                    {
                        _current.Data.Flush(ForceUnderLock);
                        handles.Add(_current.Data.SafeFileHandle);
                    }
                    foreach (var segment in _segments)
                    {
                        if (segment.Acks != null)
                        {
                            segment.Acks.Flush(ForceUnderLock);
                            handles.Add(segment.Acks.SafeFileHandle);
                        }
                    }
                }
                catch (Exception ex) when (IsIoFailure(ex))
                {
                    if (!_failed)
                        Fail(ex, "could not be written to");
                    return;
                }
            }
            JournalFiles.ForceToDisk(handles);
        }

#if NET8_0_OR_GREATER
        private const bool ForceUnderLock = false;
#else
        private const bool ForceUnderLock = true;
#endif

        /// <summary>Flushes and closes the files; segments with records not done stay for the next start. Returns how many records stay.</summary>
        public long Close()
        {
            _timer?.Dispose();
            _timer = null;
            Flush();
            long kept = 0;
            lock (_lock)
            {
                foreach (var segment in _segments)
                {
                    kept += segment.Outstanding;
                    segment.Deleted = segment.Outstanding == 0;
                    JournalFiles.CloseFiles(segment);
                    if (segment.Deleted)
                        JournalFiles.DeleteFiles(segment);
                    else
                        segment.Lock?.Dispose();
                }
                _segments.Clear();
                _current = null;
                _bytes = 0;
                _closed = true;
            }
            return kept;
        }

        public void Dispose() => Close();

        /// <summary>
        /// Test seam: lets go of the files as a killed process does. What reached the operating system stays; what is still
        /// in the file streams' own buffers (appended since the last <see cref="Flush"/>) is lost, and nothing is deleted.
        /// </summary>
        internal void Abandon()
        {
            lock (_lock)
            {
                foreach (var segment in _segments)
                {
                    JournalFiles.AbandonFile(segment.Data, segment.BasePath + ".seg");
                    JournalFiles.AbandonFile(segment.Acks, segment.BasePath + ".ack");
                    segment.Data = null;
                    segment.Acks = null;
                    segment.Lock?.Dispose();
                }
                _segments.Clear();
                _current = null;
                _failed = true;
            }
        }

        private void Finish(JournalSegment segment)
        {
            try
            {
                segment.Acks?.Flush(false);
            }
            catch (Exception ex) when (IsIoFailure(ex))
            {
                InternalLogger.Debug(ex, "{0}: could not write {1}.ack", _name, segment.BasePath);
            }
            if (segment.Sealed && segment.Outstanding <= 0)
                DeleteSegment(segment);
        }

        private void EnforceBound()
        {
            while (_bytes > _maxBytes && _segments.First != null && _segments.First.Value != _current)
            {
                var oldest = _segments.First.Value;
                Interlocked.Add(ref _unprotected, oldest.Outstanding);
                InternalLogger.Warn("{0}: the buffer directory {1} is past maxBufferBytes ({2}); deleted its oldest segment with {3} undelivered events, which are still sent from memory but would not survive a crash ({4} so far)",
                    _name, _directory, _maxBytes, oldest.Outstanding, UnprotectedRecords);
                DeleteSegment(oldest);
            }
        }

        private JournalSegment StartSegment()
        {
            string name = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfffffff", System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N");
            string basePath = Path.Combine(_directory, name);
            var lockFile = JournalFiles.TryLock(basePath + ".lock") ?? throw new IOException("could not lock " + basePath + ".lock");
            var segment = new JournalSegment(name, basePath, lockFile)
            {
                Data = new FileStream(basePath + ".seg", FileMode.CreateNew, FileAccess.Write, FileShare.Read, 64 * 1024),
            };
            _segments.AddLast(segment);
            return segment;
        }

        private void DeleteSegment(JournalSegment segment)
        {
            segment.Deleted = true;
            _segments.Remove(segment);
            _bytes -= segment.Length;
            JournalFiles.CloseFiles(segment);
            JournalFiles.DeleteFiles(segment);
        }

        private void Fail(Exception ex, string what)
        {
            _failed = true;
            InternalLogger.Warn(ex, "{0}: the buffer directory {1} {2}; keeping events in memory only from now on (they will not survive a crash)", _name, _directory, what);
            if (_current != null)
            {
                try
                {
                    _current.Data?.Dispose();
                }
                catch (IOException)
                {
                    // the disk failed; what reached it stays readable up to its last whole frame
                }
                _current.Data = null;
                _current.Sealed = true;
            }
        }

        internal static bool IsIoFailure(Exception ex) => ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException || ex is System.Security.SecurityException;
    }
}
