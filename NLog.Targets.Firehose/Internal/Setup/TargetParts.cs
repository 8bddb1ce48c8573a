using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using NLog.Common;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Delivery;
using NLog.Targets.Firehose.Internal.Diagnostics;
using NLog.Targets.Firehose.Internal.Durability;
using NLog.Targets.Firehose.Internal.Intake;

namespace NLog.Targets.Firehose.Internal.Setup
{
    /// <summary>
    /// The running target's parts, and the one place that builds, starts and closes them: the client, the durable buffer,
    /// the buffer, the delivery pipeline, the intake, the watch on NLog's queue, the SIGTERM hook and the stream check.
    /// Each part gets what it needs in its constructor; none calls back into the target.
    /// </summary>
    internal sealed class TargetParts
    {
        private readonly string _name;
        private readonly TargetSeams _seams;
        private readonly TargetStatistics _statistics;
        private readonly FirehoseMetrics _meter;
        private readonly IFirehoseClient _client;
        private readonly StreamCheck? _streamCheck;
        private readonly NLogQueueWatch? _queueWatch;
        private readonly HandOverScheduler _handOvers;
        private readonly TimeSpan _stallWait;
        private readonly TerminationHook _terminationHook;
        private DiskJournal? _journal;

        private TargetParts(FirehoseTarget target, TargetSeams seams, TargetStatistics statistics)
        {
            _name = target.ToString();
            _seams = seams;
            _statistics = statistics;
            var aws = AwsSetup.Resolve(target, seams);
            Endpoint = aws.Endpoint;
            RecordsPerCall = target.BatchSize;
            BufferEventLimit = target.QueueLimit;
            NLogQueueLimit = Math.Min(target.QueueLimit, Math.Max(seams.HandOverQueueLimit, RecordsPerCall));
            NLogBatchSize = Math.Max(RecordsPerCall, Math.Min(seams.HandOverBatch, NLogQueueLimit));

            var encoder = new RecordEncoder(target.AppendNewLine, target.OversizeRecordAction);
            _client = seams.ClientFactory != null
                ? seams.ClientFactory(Endpoint)
                : new FirehoseHttpClient(Endpoint, aws.Credentials, TimeSpan.FromSeconds(target.RequestTimeoutSeconds), _name,
                    handler: null, aws.Proxy, target.MaxConcurrentRequests);
            var sequence = new RecordSequence();
            _journal = OpenJournal(target);
            Buffer = new MemoryRecordBuffer(target.MaxQueueBytes, target.QueueLimit, () => DateTime.UtcNow, statistics, _journal is null ? null : (Action<IReadOnlyList<BufferedRecord>>)_journal.Acknowledge);
            var buffer = Buffer;
            statistics.ForgetLearnedRates(); // a new pipeline learns afresh: the gauge does not report the last one's rates
            _meter = FirehoseMetrics.Start(target.Name ?? "KinesisFirehose", () => buffer.Size.Records, () => statistics.LearnedRates);
            statistics.ReportTo(_meter);
            Recover(target, sequence);

            var settings = new PipelineSettings
            {
                RecordsPerCall = RecordsPerCall,
                CallSlots = target.MaxConcurrentRequests,
                BackoffBase = TimeSpan.FromMilliseconds(target.RetryBackoffMilliseconds),
                BackoffMax = TimeSpan.FromMilliseconds(target.RetryBackoffMaxMilliseconds),
                RetryTimeLimit = TimeSpan.FromSeconds(target.RetryTimeLimitSeconds),
                PauseBase = seams.PauseBase,
                PauseMax = TimeSpan.FromSeconds(target.MaxPauseSeconds),
                Where = "region " + Endpoint.SigningRegion,
                PackedRecordBytes = target.RecordPacking ? target.PackedRecordBytes : 0,
                GZip = target.RecordPacking && target.Compression == RecordCompression.GZip,
                MaxRecordsPerSecond = target.MaxRecordsPerSecond,
                MaxBytesPerSecond = target.MaxBytesPerSecond,
                Statistics = statistics,
                Linger = TimeSpan.FromMilliseconds(target.LingerMilliseconds),
                Name = _name,
                Delay = seams.Delay,
            };
            var layout = target.Layout;
            var summary = new DropSummary(layout, encoder, sequence, _name);
            Pipeline = new DeliveryPipeline(_client, Buffer, settings, summary.Render);
            Pipeline.Start();
            var intake = new IntakeSettings(layout, target.DeliveryStreamName!, encoder, _name)
            {
                Where = Endpoint.SigningRegion,
                FailBrokenStreams = target.PersistentErrorAction == PersistentErrorAction.Fail,
                FlushJournalEveryHandOver = target.BufferFlushInterval <= 0,
                BeforeHandOver = () => seams.BeforeHandOver?.Invoke(), // read at every hand-over: a test may set it while the target runs
            };
            Intake = new EventIntake(intake, Buffer, Pipeline, _journal, sequence, statistics);
            _queueWatch = NLogQueueWatch.Start(target, OnNLogQueueDropped, () => Intake.IsHandingOver ? (long?)null : statistics.HandOvers,
                OnHandOverRestarted, seams.StallCheckPeriod);
            _handOvers = target.HandOvers;
            _handOvers.HandOverQueued = seams.HandOverQueued;
            if (_queueWatch is NLogQueueWatch watch)
            {
                _handOvers.AfterContinuation = () =>
                {
                    seams.AfterNLogContinuation?.Invoke();
                    if (watch.RearmIfStopped())
                        statistics.HandOverRearmed();
                };
            }
            _stallWait = NLogQueueWatch.ConfirmDelay(target.TaskDelayMilliseconds);
            _terminationHook = TerminationHook.Register(DeliverBeforeTermination, _name);
            if (target.CheckStreamAtStartup)
                _streamCheck = Internal.Setup.StreamCheck.Start(_client, target.DeliveryStreamName, Endpoint.SigningRegion, _name);
            InternalLogger.Info("{0}: sending to {1} (signing region {2}, credentials from {3})", _name, Endpoint.ServiceUri, Endpoint.SigningRegion, aws.CredentialSource);
        }

        public FirehoseEndpoint Endpoint { get; }

        public MemoryRecordBuffer Buffer { get; }

        public DeliveryPipeline Pipeline { get; }

        public EventIntake Intake { get; }

        /// <summary>Records per PutRecordBatch call (<c>batchSize</c>).</summary>
        public int RecordsPerCall { get; }

        /// <summary>Events the buffer holds (<c>queueLimit</c>).</summary>
        public int BufferEventLimit { get; }

        /// <summary>NLog's QueueLimit while the target runs: its small hand-over queue.</summary>
        public int NLogQueueLimit { get; }

        /// <summary>NLog's BatchSize while the target runs: events per hand-over.</summary>
        public int NLogBatchSize { get; }

        /// <summary>Whether the durable buffer is writing (false when memory only, or after the directory failed).</summary>
        public bool IsBufferingToDisk => _journal?.IsWriting ?? false;

        /// <summary>The start-up check of the stream, running or done; null when none started.</summary>
        public Task? StreamCheck => _streamCheck?.Running;

        /// <summary>Validates the target's options, then builds and starts its parts. Throws <see cref="NLog.NLogConfigurationException"/> for a broken configuration.</summary>
        public static TargetParts Start(FirehoseTarget target, TargetSeams seams, TargetStatistics statistics) => new TargetParts(target, seams, statistics);

        /// <summary>
        /// At close, before NLog clears its hand-over queue: waits (within the close drain) for a hand-over that is running,
        /// then takes what the queue still holds into the buffer, so the drain delivers it or reports it by level.
        /// </summary>
        public void TakeWhatNLogStillHolds()
        {
            var watch = _queueWatch;
            if (watch is null)
                return;
            SpinWait.SpinUntil(() => !Intake.IsHandingOver, _seams.CloseDrain);
            var pending = watch.TakeAll();
            if (pending.Count == 0)
                return;
            var events = new LogEventInfo[pending.Count];
            for (int i = 0; i < events.Length; i++)
                events[i] = pending[i].LogEvent;
            var failure = Intake.Accept(events);
            foreach (var item in pending)
                item.Continuation(failure);
            InternalLogger.Debug("{0}: took {1} events that were still in NLog's hand-over queue at close", _name, events.Length);
        }

        /// <summary>
        /// After NLog closed its side: delivers what can be delivered within the close drain, reports what could not, and
        /// releases everything. Never throws.
        /// </summary>
        public void Close()
        {
            _streamCheck?.Cancel();
            _handOvers.AfterContinuation = null;
            _handOvers.HandOverQueued = null;
            _queueWatch?.Dispose();
            _terminationHook.Dispose();
            _seams.DrainBegun?.Invoke();
            Pipeline.Stop(_seams.CloseDrain);
            var journal = Interlocked.Exchange(ref _journal, null);
            var lost = Buffer.DropAllQueued();
            long total = LevelCounts.Total(lost);
            long kept = journal?.Close() ?? 0;
            if (kept > 0)
            {
                _statistics.KeptOnDisk(kept);
                InternalLogger.Warn("{0}: closing with {1} events not delivered yet; they stay in the durable buffer and are sent when the target next starts", _name, kept);
                total = Math.Max(0, total - kept);
                Array.Clear(lost, 0, lost.Length);
            }
            if (total > 0)
            {
                _statistics.Undelivered(total);
                InternalLogger.Error("{0}: closing with {1} events not delivered ({2}); they are lost", _name, total, LevelCounts.Describe(lost));
            }
            _statistics.ReportTo(null);
            _meter.Stop();
            _client.Dispose();
        }

        private DiskJournal? OpenJournal(FirehoseTarget target)
        {
            string? directory = AwsSetup.Render(target.BufferDirectory, LogEventInfo.CreateNullEvent());
            if (directory is null)
                return null;
            string fullPath;
            try
            {
                fullPath = System.IO.Path.GetFullPath(directory);
            }
            catch (Exception ex) when (ex is ArgumentException || ex is NotSupportedException || ex is System.IO.IOException || ex is System.Security.SecurityException)
            {
                InternalLogger.Warn(ex, "{0}: bufferDirectory '{1}' is not a usable path; keeping events in memory only (they will not survive a crash)", _name, directory);
                return null;
            }
            var journal = new DiskJournal(fullPath, TimeSpan.FromSeconds(target.BufferFlushInterval), target.MaxBufferBytes, _name);
            return journal.Open() ? journal : null;
        }

        /// <summary>The durable buffer's records from earlier runs go into the buffer first, oldest first.</summary>
        private void Recover(FirehoseTarget target, RecordSequence sequence)
        {
            if (_journal is null)
                return;
            var recovered = _journal.Recover(sequence);
            foreach (var record in recovered)
                Buffer.Add(record);
            InternalLogger.Info("{0}: durable buffer in {1} (forced to disk every {2} s, at most {3} bytes); {4} events recovered from earlier runs",
                _name, _journal.DirectoryPath, target.BufferFlushInterval, target.MaxBufferBytes, recovered.Count);
        }

        /// <summary>
        /// NLog's own hand-over queue was full and dropped its oldest event (<c>overflowAction="Discard"</c>): counted like
        /// the buffer's drops (metrics, the summary event), and said at once.
        /// </summary>
        private void OnNLogQueueDropped(LogEventInfo? dropped)
        {
            long count = _statistics.NLogQueueDropped();
            Buffer.Drops.Count((dropped?.Level ?? LogLevel.Info).Ordinal);
            if (count == 1 || count % 10_000 == 0)
                InternalLogger.Warn("{0}: NLog's hand-over queue is full ({1} events) and overflowAction is Discard: it drops its oldest events before they reach the target ({2} so far); they are counted in the drop summary", _name, NLogQueueLimit, count);
        }

        /// <summary>NLog's writer had stopped with events waiting, and the queue watch restarted it.</summary>
        private void OnHandOverRestarted()
        {
            if (_statistics.HandOverRestarted() == 1)
                InternalLogger.Warn("{0}: NLog's hand-over had stopped: events waited in its queue with no writer running for over {1} ms (NLog issue #4890, a lost wake-up of AsyncTaskTarget's writer, or a writer starved of threads); the target restarted it, and will whenever it stops again (counted, not logged again)", _name, (long)_stallWait.TotalMilliseconds);
        }

        /// <summary>
        /// SIGTERM without a host that handles it: the process ends right after this returns, without closing NLog. Take what
        /// NLog's queue holds, deliver the buffer for at most the close drain, force the durable buffer to disk, report what
        /// is left.
        /// </summary>
        private void DeliverBeforeTermination()
        {
            TakeWhatNLogStillHolds();
            Pipeline.WhenIdleAsync().Wait(_seams.CloseDrain);
            var journal = _journal;
            journal?.Flush();
            var (records, bytes) = Buffer.Size;
            if (records > 0)
            {
                var held = Buffer.HeldByLevel(); // queued and in flight, not removed: a host that handles SIGTERM itself may still deliver them when it closes NLog
                InternalLogger.Error("{0}: SIGTERM: {1} events ({2:0.0} MB; {3}) were not delivered within {4:0.#} s; {5}",
                    _name, records, bytes / 1048576.0, LevelCounts.Describe(held), _seams.CloseDrain.TotalSeconds,
                    journal != null ? "they stay in the durable buffer for the next start" : "they are lost if the process ends now");
            }
        }
    }
}
