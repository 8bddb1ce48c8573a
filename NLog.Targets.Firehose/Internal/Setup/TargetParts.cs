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
        private readonly FirehoseTarget _target;
        private readonly TargetSeams _seams;
        private readonly TargetStatistics _statistics;
        private readonly IFirehoseClient _client;
        private readonly HandOverScheduler _handOvers;
        private readonly TimeSpan _stallWait;
        private readonly string _credentialSource;
        private readonly Stack<(string Step, Action Stop)> _started = new Stack<(string Step, Action Stop)>();
        private FirehoseMetrics? _meter;
        private StreamCheck? _streamCheck;
        private NLogQueueWatch? _queueWatch;
        private TerminationHook? _terminationHook;
        private DiskJournal? _journal;

        /// <summary>Builds every part: no thread, timer, file, meter or registration yet (<see cref="StartAll"/>).</summary>
        private TargetParts(FirehoseTarget target, TargetSeams seams, TargetStatistics statistics)
        {
            _name = target.ToString();
            _target = target;
            _seams = seams;
            _statistics = statistics;
            var aws = AwsSetup.Resolve(target, seams);
            _credentialSource = aws.CredentialSource;
            Endpoint = aws.Endpoint;
            _journal = NewJournal(target);
            _handOvers = target.HandOvers;
            _stallWait = NLogQueueWatch.ConfirmDelay(target.TaskDelayMilliseconds);

            var encoder = new RecordEncoder(target.AppendNewLine, target.OversizeRecordAction);
            var sequence = new RecordSequence();
            var journal = _journal;
            Buffer = new MemoryRecordBuffer(target.MaxQueueBytes, target.MaxQueueEvents, () => DateTime.UtcNow, statistics, journal is null ? null : (Action<IReadOnlyList<BufferedRecord>>)journal.Acknowledge);
            Sequence = sequence;
            var settings = new PipelineSettings
            {
                RecordsPerCall = target.MaxRecordsPerCall,
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
            var intake = new IntakeSettings(layout, target.DeliveryStreamName!, encoder, _name)
            {
                Where = Endpoint.SigningRegion,
                FailBrokenStreams = target.PersistentErrorAction == PersistentErrorAction.Fail,
                FlushJournalEveryHandOver = target.BufferFlushInterval <= 0,
                BeforeHandOver = () => seams.BeforeHandOver?.Invoke(), // read at every hand-over: a test may set it while the target runs
            };

            // Last: the one part built here that holds something (its connections) until disposed.
            _client = seams.ClientFactory != null
                ? seams.ClientFactory(Endpoint)
                : new FirehoseHttpClient(Endpoint, aws.Credentials, TimeSpan.FromSeconds(target.RequestTimeoutSeconds), _name,
                    handler: null, aws.Proxy, target.MaxConcurrentRequests);
            Pipeline = new DeliveryPipeline(_client, Buffer, settings, summary.Render);
            Intake = new EventIntake(intake, Buffer, Pipeline, journal, sequence, statistics);
        }

        private RecordSequence Sequence { get; }

        public FirehoseEndpoint Endpoint { get; }

        public MemoryRecordBuffer Buffer { get; }

        public DeliveryPipeline Pipeline { get; }

        public EventIntake Intake { get; }

        /// <summary>Whether the durable buffer is writing (false when memory only, or after the directory failed).</summary>
        public bool IsBufferingToDisk => _journal?.IsWriting ?? false;

        /// <summary>The start-up check of the stream, running or done; null when none started.</summary>
        public Task? StreamCheck => _streamCheck?.Running;

        /// <summary>
        /// Validates the target's options, builds its parts, then starts them. Throws <see cref="NLog.NLogConfigurationException"/>
        /// for a broken configuration; when a part fails to start, those already started are stopped, in reverse, before
        /// the failure is thrown: a target that did not start leaves no thread, timer, file, meter or registration behind.
        /// </summary>
        public static TargetParts Start(FirehoseTarget target, TargetSeams seams, TargetStatistics statistics)
        {
            var parts = new TargetParts(target, seams, statistics);
            parts.StartAll();
            return parts;
        }

        private void StartAll()
        {
            var target = _target;
            try
            {
                Step("journal", OpenJournal, () => Interlocked.Exchange(ref _journal, null)?.Close());
                Step("meter", () =>
                {
                    var buffer = Buffer;
                    var statistics = _statistics;
                    var pipeline = Pipeline; // a new pipeline learns afresh: the gauge reports this one's rates only
                    _meter = FirehoseMetrics.Start(target.Name ?? "KinesisFirehose", () => buffer.Size.Records, () => pipeline.LearnedRates);
                    statistics.ReportTo(_meter);
                }, () =>
                {
                    _statistics.ReportTo(null);
                    _meter?.Stop();
                });
                Step("recovery", () => Recover(target), () => { });
                Step("pipeline", Pipeline.Start, () => Pipeline.Stop(TimeSpan.Zero));
                Step("queue watch", StartQueueWatch, () =>
                {
                    _handOvers.AfterContinuation = null;
                    _handOvers.HandOverQueued = null;
                    _queueWatch?.Dispose();
                });
                Step("termination hook", () => _terminationHook = TerminationHook.Register(DeliverBeforeTermination, _name), () => _terminationHook?.Dispose());
                if (target.CheckStreamAtStartup)
                    Step("stream check", () => _streamCheck = Internal.Setup.StreamCheck.Start(_client, target.DeliveryStreamName, Endpoint.SigningRegion, _name), () => _streamCheck?.Cancel());
            }
            catch (Exception ex)
            {
                string failed = _started.Count > 0 ? "after " + _started.Peek().Step : "at its first step";
                InternalLogger.Error(ex, "{0}: could not start ({1}); stopping what had started", _name, failed);
                StopStarted();
                _client.Dispose();
                throw;
            }
            InternalLogger.Info("{0}: sending to {1} (signing region {2}, credentials from {3})", _name, Endpoint.ServiceUri, Endpoint.SigningRegion, _credentialSource);
        }

        private void Step(string name, Action start, Action stop)
        {
            _seams.BeforeStartStep?.Invoke(name);
            start();
            _started.Push((name, stop));
        }

        private void StopStarted()
        {
            while (_started.Count > 0)
            {
                var (step, stop) = _started.Pop();
                try
                {
                    stop();
                }
                catch (Exception ex) when (!(ex is OutOfMemoryException))
                {
                    InternalLogger.Error(ex, "{0}: could not stop the {1} while giving up starting", _name, step);
                }
            }
        }

        private void StartQueueWatch()
        {
            var statistics = _statistics;
            var seams = _seams;
            _queueWatch = NLogQueueWatch.Start(_target, OnNLogQueueDropped, () => Intake.IsHandingOver ? (long?)null : statistics.HandOvers,
                OnHandOverRestarted, seams.StallCheckPeriod);
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
        }

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
            _terminationHook?.Dispose();
            _seams.DrainBegun?.Invoke();
            Pipeline.Stop(_seams.CloseDrain);
            var journal = Interlocked.Exchange(ref _journal, null);
            var lost = Buffer.DropAllQueued();
            long total = lost.Total;
            long kept = journal?.Close() ?? 0;
            if (kept > 0)
            {
                _statistics.KeptOnDisk(kept);
                InternalLogger.Warn("{0}: closing with {1} events not delivered yet; they stay in the durable buffer and are sent when the target next starts", _name, kept);
                total = Math.Max(0, total - kept);
                lost.Clear();
            }
            if (total > 0)
            {
                _statistics.Undelivered(total);
                InternalLogger.Error("{0}: closing with {1} events not delivered ({2}); they are lost", _name, total, lost);
            }
            _statistics.ReportTo(null);
            _meter?.Stop();
            _client.Dispose();
        }

        /// <summary>The durable buffer, not opened yet; null in memory-only mode or when the directory is not a usable path.</summary>
        private DiskJournal? NewJournal(FirehoseTarget target)
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
            return new DiskJournal(fullPath, TimeSpan.FromSeconds(target.BufferFlushInterval), target.MaxBufferBytes, _name);
        }

        /// <summary>
        /// Opens the durable buffer. A directory that cannot be written leaves it failed (said once; it writes nothing, and
        /// the buffer keeps events in memory only), not the target unstarted.
        /// </summary>
        private void OpenJournal() => _journal?.Open();

        /// <summary>The durable buffer's records from earlier runs go into the buffer first, oldest first.</summary>
        private void Recover(FirehoseTarget target)
        {
            if (_journal is null || !_journal.IsWriting)
                return;
            var recovered = _journal.Recover(Sequence);
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
                InternalLogger.Warn("{0}: NLog's hand-over queue is full ({1} events) and overflowAction is Discard: it drops its oldest events before they reach the target ({2} so far); they are counted in the drop summary", _name, _target.QueueLimit, count);
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
                    _name, records, bytes / 1048576.0, held, _seams.CloseDrain.TotalSeconds,
                    journal is { IsWriting: true } ? "they stay in the durable buffer for the next start" : "they are lost if the process ends now");
            }
        }
    }
}
