using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net.Http;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using NLog.Common;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Diagnostics;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>Settings of <see cref="DeliveryPipeline"/>.</summary>
    internal sealed class PipelineSettings
    {
        public int RecordsPerCall { get; set; } = FirehoseLimits.MaxRecordsPerCall;

        /// <summary>Call slots: PutRecordBatch calls in flight at once.</summary>
        public int Workers { get; set; } = 8;

        public TimeSpan BackoffBase { get; set; } = TimeSpan.FromMilliseconds(100);

        public TimeSpan BackoffMax { get; set; } = TimeSpan.FromSeconds(10);

        /// <summary>How long a stream may keep failing (no call making progress) before its calls pause.</summary>
        public TimeSpan RetryTimeLimit { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>The first pause of a stream; each further one doubles, up to <see cref="PauseMax"/>.</summary>
        public TimeSpan PauseBase { get; set; } = TimeSpan.FromSeconds(1);

        public TimeSpan PauseMax { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>How long a call that is not full waits for more records, unless a flush is waiting (0: never).</summary>
        public TimeSpan Linger { get; set; }

        /// <summary>Record packing: the size of a packed record; 0 sends one event per record.</summary>
        public int PackedRecordBytes { get; set; }

        /// <summary>Where measurements go (the meter); null: nowhere.</summary>
        public FirehoseMetrics? Metrics { get; set; }

        /// <summary>For messages: the region or endpoint.</summary>
        public string Where { get; set; } = string.Empty;
    }

    /// <summary>
    /// Delivers what the buffer holds, in the background, with up to <see cref="PipelineSettings.Workers"/> calls in
    /// flight (call slots). No task waits while there is nothing to do: a hand-over (<see cref="RecordsAdded"/>), a call's
    /// end and one timer (a linger's or a pause's end) each look whether a slot is free and a call is worth making, and
    /// start it (the oldest records of one stream, within the records-per-call and byte limits, taken from the buffer only
    /// when the call starts, so everything waiting stays where the drop policy can reach it). After a call:
    /// <list type="bullet">
    /// <item>accepted records are done and never sent again; records refused for good are counted and reported;</item>
    /// <item>records not accepted go back to the front of the buffer, so they lead the next call, topped up with fresh
    /// ones;</item>
    /// <item>a slot whose call made no progress (throttled, 5xx, network fault, every record failed) backs off
    /// exponentially with full jitter before it is free again, as the AWS SDKs do per request, which lowers the request
    /// rate while the records stay available to healthy slots; after a partly accepted call it waits only briefly, in
    /// proportion to the share that failed; a fully accepted call ends every slot's backoff (the endpoint is healthy);</item>
    /// <item>a stream that failed with an error retrying does not cure (missing stream, access denied, refused
    /// credentials), or that made no progress for the retry time limit, pauses: no calls for 1 s, then 2 s, 4 s… up to a
    /// cap — a circuit breaker; its records are kept and flow as soon as a call succeeds.</item>
    /// </list>
    /// After the buffer had to drop events, the next successful call adds one summary event.
    /// </summary>
    internal sealed class DeliveryPipeline
    {
        private readonly IFirehoseClient _client;
        private readonly MemoryRecordBuffer _buffer;
        private readonly PipelineSettings _settings;
        private readonly Func<DateTime> _utcNow;
        private readonly Func<TimeSpan, CancellationToken, Task> _delay;
        private readonly Backoff _backoff;
        private readonly Func<string, DropReport, BufferedRecord?> _summary;
        private readonly object _target;
        private readonly object _lock = new object();
        private readonly Dictionary<string, StreamHealth> _streams = new Dictionary<string, StreamHealth>(StringComparer.Ordinal);
        private readonly List<TaskCompletionSource<bool>> _idleWaiters = new List<TaskCompletionSource<bool>>();
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly Timer _timer;
        private readonly int[] _slotAttempts;
        private readonly Stack<int> _freeSlots = new Stack<int>();
        private TaskCompletionSource<bool> _wake = NewSignal();
        private TaskCompletionSource<bool>? _drained;
        private bool _started;
        private bool _stopped;
        private long _timerDue = long.MaxValue;
        private int _callsInFlight;
        private int _slotsBusy;
        private long _delivered;
        private long _rejected;
        private long _calls;
        private long _retries;
        private long _throttles;
        private long _billedUnits;
        private readonly long _lingerTicks;
        private long _records;

        public DeliveryPipeline(IFirehoseClient client, MemoryRecordBuffer buffer, PipelineSettings settings, Func<DateTime> utcNow,
            Func<TimeSpan, CancellationToken, Task> delay, Func<double> random, Func<string, DropReport, BufferedRecord?> summary, object target)
        {
            _client = client;
            _buffer = buffer;
            _settings = settings;
            _utcNow = utcNow;
            _delay = delay;
            _backoff = new Backoff(settings.BackoffBase, settings.BackoffMax, random);
            _summary = summary;
            _target = target;
            _lingerTicks = (long)(settings.Linger.TotalSeconds * Stopwatch.Frequency);
            _slotAttempts = new int[Math.Max(1, settings.Workers)];
            for (int i = _slotAttempts.Length - 1; i >= 0; i--)
                _freeSlots.Push(i);
            _timer = new Timer(OnTimer, null, Timeout.Infinite, Timeout.Infinite);
        }

        /// <summary>Records Firehose accepted.</summary>
        public long Delivered => Interlocked.Read(ref _delivered);

        /// <summary>Records Firehose refused for good.</summary>
        public long Rejected => Interlocked.Read(ref _rejected);

        /// <summary>PutRecordBatch calls made.</summary>
        public long Calls => Interlocked.Read(ref _calls);

        /// <summary>Calls whose records (some or all) had to be sent again.</summary>
        public long Retries => Interlocked.Read(ref _retries);

        /// <summary>Throttled calls and records.</summary>
        public long Throttles => Interlocked.Read(ref _throttles);

        /// <summary>Firehose records accepted (packed records count once).</summary>
        public long Records => Interlocked.Read(ref _records);

        /// <summary>Billed 5 KB units of the records accepted: each record rounded up to 5,120 bytes.</summary>
        public long BilledUnits => Interlocked.Read(ref _billedUnits);

        /// <summary>
        /// Whether <paramref name="stream"/> last failed with an error retrying does not cure (and has not accepted a call
        /// since); <paramref name="code"/> is that error.
        /// </summary>
        public bool IsBroken(string stream, out string? code)
        {
            lock (_lock)
            {
                code = _streams.TryGetValue(stream, out var health) && health.PausedForGood ? health.LastCode : null;
                return code != null;
            }
        }

        /// <summary>
        /// Tells the pipeline that records were added: starts calls while a slot is free and a call is worth making (full,
        /// or its oldest record has lingered long enough), else arms the one timer for the linger's end. Cheap when no slot
        /// is free: the intake calls it after every hand-over.
        /// </summary>
        public void RecordsAdded() => Pump();

        public void Start()
        {
            lock (_lock)
                _started = true;
            Pump();
        }

        /// <summary>
        /// Completes when nothing can be delivered right now: no call in flight, and the buffer is empty or holds only
        /// records of streams paused by an error retrying does not cure. (A flush must not wait for a stream that does not
        /// exist; it does wait through throttling, outages and the pauses they cause.)
        /// </summary>
        public Task WhenIdleAsync()
        {
            var waiter = NewSignal();
            lock (_lock)
            {
                if (!_started || _stopped)
                    return Task.CompletedTask;
                _idleWaiters.Add(waiter);
            }
            Wake(); // slots backing off look again: someone waits
            Pump(); // a call that lingers goes now
            return waiter.Task;
        }

        /// <summary>Delivers what can be delivered within <paramref name="drainTimeout"/>, then stops. Undelivered records stay in the buffer. Never throws.</summary>
        public void Stop(TimeSpan drainTimeout)
        {
            try
            {
                WhenIdleAsync().Wait(drainTimeout);
                Task drained;
                lock (_lock)
                {
                    _stopped = true;
                    drained = _slotsBusy == 0 ? Task.CompletedTask : (_drained = NewSignal()).Task;
                }
                _stop.Cancel();
                Wake();
                drained.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException ex)
            {
                InternalLogger.Debug(ex, "{0}: delivery stopped", _target);
            }
            finally
            {
                _timer.Dispose();
                CompleteIdleWaiters();
            }
        }

        /// <summary>
        /// Starts calls while a slot is free and the buffer holds a call worth making; otherwise arms the timer for when one
        /// will be (a linger's or a pause's end) and, when nothing is in flight or deliverable, completes the idle waiters.
        /// No task waits while there is nothing to do: every wake-up is a hand-over, a call's end or the timer.
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        private void Pump()
        {
            bool first = true;
            while (true)
            {
                List<BufferedRecord> call;
                int slot;
                lock (_lock)
                {
                    if (!_started || _stopped || _slotsBusy >= _slotAttempts.Length)
                        return;
                    var now = _utcNow();
                    var blocked = Paused(now, out var nextResume, out var blockedForGood);
                    // A call that is not full waits to fill up for Linger, unless someone waits for a flush.
                    long readyBefore = _lingerTicks <= 0 || _idleWaiters.Count > 0 ? long.MaxValue : Stopwatch.GetTimestamp() - _lingerTicks;
                    call = _buffer.TakeCall(blocked, _settings.PackedRecordBytes > 0 ? int.MaxValue : _settings.RecordsPerCall, FirehoseLimits.MaxBytesPerCall, readyBefore, out long waitingSince);
                    if (call.Count == 0)
                    {
                        if (_callsInFlight == 0 && _idleWaiters.Count > 0 && !_buffer.HasDeliverable(blockedForGood))
                            CompleteIdleWaitersLocked();
                        long due = waitingSince == long.MaxValue ? long.MaxValue : waitingSince + _lingerTicks;
                        if (nextResume.HasValue)
                            due = Math.Min(due, Stopwatch.GetTimestamp() + (long)(Clamp(nextResume.Value - now).TotalSeconds * Stopwatch.Frequency));
                        ArmTimerLocked(due);
                        return;
                    }
                    _callsInFlight++;
                    _slotsBusy++;
                    slot = _freeSlots.Pop();
                }
                var stop = _stop.Token;
                // The first call starts on this thread, up to its first wait (packing, the body, the signature): one
                // thread-pool hand-off fewer per call; further ones go to the pool so that they are built side by side.
                // Not fire-and-forget: a call never throws (RunCallAsync books every outcome), holds its slot until it
                // has booked it, and Stop waits for every slot to be free again.
                if (first)
                    _ = RunCallAsync(slot, call, stop);
                else
                    Task.Run(() => RunCallAsync(slot, call, stop));
                first = false;
            }
        }

        /// <summary>The timer fires at <paramref name="due"/> (a Stopwatch timestamp) unless it is armed for earlier already.</summary>
        private void ArmTimerLocked(long due)
        {
            if (due == long.MaxValue || due >= _timerDue)
                return;
            _timerDue = due;
            long ms = Math.Max(1, (due - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency + 1);
            _timer.Change(ms, Timeout.Infinite);
        }

        private void OnTimer(object? state)
        {
            lock (_lock)
                _timerDue = long.MaxValue;
            Pump();
        }

        /// <summary>One call in one slot: send, book the outcome, back off if it made no progress, free the slot, look for more.</summary>
        private async Task RunCallAsync(int slot, List<BufferedRecord> call, CancellationToken stop)
        {
            bool booked = false;
            try
            {
                string stream = call[0].Stream;
                var wire = Pack(call, out var starts);
                Interlocked.Increment(ref _calls);
                CallOutcome outcome;
                try
                {
                    outcome = await SendAsync(stream, call, wire, starts, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    outcome = CallOutcome.NothingAccepted(call, "Stopped", "the target closed", 0);
                }
                finally
                {
                    if (starts != null)
                        RecordPacker.Release(wire);
                }

                TimeSpan wait = Handle(stream, call, outcome, ref _slotAttempts[slot]);
                booked = true;
                if (wait > TimeSpan.Zero && !stop.IsCancellationRequested)
                {
                    Task woken;
                    lock (_lock)
                        woken = _wake.Task;
                    await Task.WhenAny(_delay(wait, stop), woken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                InternalLogger.Error(ex, "{0}: a delivery call failed unexpectedly; its records stay in the buffer", _target);
                if (!booked)
                {
                    lock (_lock)
                        _callsInFlight--;
                    _buffer.Return(call);
                }
            }
            finally
            {
                TaskCompletionSource<bool>? drained = null;
                lock (_lock)
                {
                    _slotsBusy--;
                    _freeSlots.Push(slot);
                    if (_slotsBusy == 0)
                        drained = _drained;
                }
                drained?.TrySetResult(true);
            }
            Pump();
        }

        /// <summary>Books a call's outcome; returns how long this slot waits before its next call.</summary>
        [MethodImpl(HotPath.Optimized)]
        private TimeSpan Handle(string stream, List<BufferedRecord> call, CallOutcome outcome, ref int attempt)
        {
            _buffer.Complete(outcome.Accepted);
            _buffer.Complete(outcome.Rejected);
            Interlocked.Add(ref _delivered, outcome.Accepted.Count);
            Interlocked.Add(ref _rejected, outcome.Rejected.Count);
            Interlocked.Add(ref _throttles, outcome.Throttles);
            var metrics = _settings.Metrics;
            metrics?.Sent(outcome.Accepted.Count);
            metrics?.Failed(outcome.Rejected.Count);
            metrics?.Throttled(outcome.Throttles);
            if (outcome.Retry != null)
                metrics?.Retried();
            if (outcome.Rejected.Count > 0)
            {
                InternalLogger.Error("{0}: delivery stream '{1}' ({2}): Firehose refused {3} events for good; error {4}: {5}",
                    _target, stream, _settings.Where, outcome.Rejected.Count, outcome.RejectedCode, outcome.RejectedMessage);
            }

            // Before this call stops counting as in flight, so a flush cannot see "idle" before the summary is queued.
            if (outcome.Accepted.Count > 0)
                AddDropSummary(stream);

            var now = _utcNow();
            TimeSpan wait = TimeSpan.Zero;
            bool wakeOthers = false;
            lock (_lock)
            {
                _callsInFlight--;
                var health = HealthOf(stream);
                if (outcome.Accepted.Count > 0)
                {
                    if (health.CoolDown > TimeSpan.Zero)
                        InternalLogger.Info("{0}: delivery stream '{1}' accepts records again", _target, stream);
                    health.Recovered();
                    wakeOthers = outcome.Accepted.Count == call.Count;
                }

                if (outcome.Retry != null)
                {
                    Interlocked.Increment(ref _retries);
                    if (outcome.Permanent)
                    {
                        Pause(health, stream, outcome, permanent: true, now);
                    }
                    else if (outcome.Accepted.Count > 0)
                    {
                        // Partly accepted: there is capacity. Wait briefly, in proportion to what failed.
                        attempt = 0;
                        wait = TimeSpan.FromTicks((long)(_backoff.Next(0).Ticks * ((double)outcome.Retry.Count / call.Count)));
                    }
                    else
                    {
                        health.FailingSince ??= now;
                        if (now - health.FailingSince.Value >= _settings.RetryTimeLimit)
                            Pause(health, stream, outcome, permanent: false, now);
                        wait = _backoff.Next(attempt);
                        attempt++;
                    }
                    _buffer.Return(outcome.Retry);
                }
                else
                {
                    attempt = 0;
                }
            }

            if (outcome.Retry != null)
                InternalLogger.Debug("{0}: {1} records of delivery stream '{2}' go back to the buffer after {3}; this call slot waits {4} ms", _target, outcome.Retry.Count, stream, outcome.Code, (long)wait.TotalMilliseconds);
            if (wakeOthers)
                Wake();
            return wait;
        }

        private void Pause(StreamHealth health, string stream, CallOutcome outcome, bool permanent, DateTime now)
        {
            health.CoolDown = health.CoolDown == TimeSpan.Zero ? _settings.PauseBase : TimeSpan.FromTicks(Math.Min(health.CoolDown.Ticks * 2, _settings.PauseMax.Ticks));
            health.PausedUntil = now + health.CoolDown;
            health.PausedForGood = permanent;
            health.LastCode = outcome.Code ?? "unknown";
            health.FailingSince = null;
            var (records, bytes) = _buffer.Size;
            string why = permanent ? outcome.Message ?? "no message" : $"no call made progress for {_settings.RetryTimeLimit.TotalSeconds:0.#} s; last: {outcome.Message}";
            InternalLogger.Error("{0}: delivery stream '{1}' ({2}): error {3}: {4}; pausing its calls for {5:0.#} s; events are kept ({6} in the buffer, {7:0.0} MB)",
                _target, stream, _settings.Where, outcome.Code, why, health.CoolDown.TotalSeconds, records, bytes / 1048576.0);
        }

        private void AddDropSummary(string stream)
        {
            var report = _buffer.TakeDropReport();
            if (report is null)
                return;
            InternalLogger.Warn("{0}: dropped {1} events (Trace {2}, Debug {3}, Info {4}, Warn {5}, Error {6}, Fatal {7}) between {8:o} and {9:o} to stay within the queue bounds",
                _target, report.Total, report.ByLevel[0], report.ByLevel[1], report.ByLevel[2], report.ByLevel[3], report.ByLevel[4], report.ByLevel[5], report.FirstUtc, report.LastUtc);
            var summary = _summary(stream, report);
            if (summary != null)
                _buffer.Add(summary, beyondBounds: true);
        }

        /// <summary>
        /// With record packing, packs the call's records into at most the records of one call; what does not fit goes
        /// back to the buffer at once. Without, the records go as they are (starts is null).
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        private List<BufferedRecord> Pack(List<BufferedRecord> call, out List<int>? starts)
        {
            starts = null;
            if (_settings.PackedRecordBytes <= 0)
                return call;
            var packed = RecordPacker.Pack(call, _settings.PackedRecordBytes, _settings.RecordsPerCall, out var packedStarts, out int used);
            if (used < call.Count)
            {
                _buffer.Return(call.GetRange(used, call.Count - used));
                call.RemoveRange(used, call.Count - used);
            }
            starts = packedStarts;
            return packed;
        }

        /// <summary>One call and what became of its records (<paramref name="wire"/>: as sent, packed or not).</summary>
        private async Task<CallOutcome> SendAsync(string stream, List<BufferedRecord> records, List<BufferedRecord> wire, List<int>? starts, CancellationToken cancellationToken)
        {
            PutRecordBatchResult response;
            long started = Stopwatch.GetTimestamp();
            try
            {
                response = await _client.PutRecordBatchAsync(stream, wire, cancellationToken).ConfigureAwait(false);
                _settings.Metrics?.Request(wire.Count, StopwatchSpan(Stopwatch.GetTimestamp() - started));
            }
            catch (FirehoseServiceException ex) when (Measured(wire.Count, started))
            {
                var kind = ex.Kind;
                string code = ex.ErrorCode ?? "HTTP " + ex.StatusCode;
                if (kind == FailureKind.Throttled || kind == FailureKind.Transient)
                    return CallOutcome.NothingAccepted(records, code, ex.ServiceMessage, kind == FailureKind.Throttled ? 1 : 0);
                return CallOutcome.Failed(records, code, ex.Message);
            }
            catch (Exception ex) when (IsNetworkFault(ex, cancellationToken) && Measured(wire.Count, started))
            {
                return CallOutcome.NothingAccepted(records, ex.GetType().Name, ex.Message, 0);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && !(ex is OutOfMemoryException))
            {
                // Unexpected (a client closed under us, say): treat like an error retrying does not cure; records are kept.
                return CallOutcome.Failed(records, ex.GetType().Name, ex.Message);
            }

            return Book(records, wire, starts, response);
        }

        /// <summary>What became of each record of a call Firehose answered 200 (a packed record's events share its fate).</summary>
        [MethodImpl(HotPath.Optimized)]
        private CallOutcome Book(List<BufferedRecord> records, List<BufferedRecord> wire, List<int>? starts, PutRecordBatchResult response)
        {
            var outcome = new CallOutcome(records.Count);
            long acceptedRecords = 0;
            long acceptedBytes = 0;
            long billedUnits = 0;
            for (int i = 0; i < wire.Count; i++)
            {
                int first = starts is null ? i : starts[i];
                int end = starts is null ? i + 1 : i + 1 < starts.Count ? starts[i + 1] : records.Count;
                string? code = response.FailedPutCount == 0 ? null : response.ErrorCodes[i];
                if (code is null)
                {
                    acceptedRecords++;
                    acceptedBytes += wire[i].Data.Length;
                    billedUnits += RecordPacker.BilledUnits(wire[i].Data.Length);
                    for (int k = first; k < end; k++)
                        outcome.Accepted.Add(records[k]);
                    continue;
                }
                var kind = ErrorClassifier.ClassifyRecord(code);
                if (kind == FailureKind.Permanent)
                {
                    for (int k = first; k < end; k++)
                        outcome.Rejected.Add(records[k]);
                    outcome.RejectedCode = code;
                    outcome.RejectedMessage = response.ErrorMessages[i];
                    continue;
                }
                outcome.Code = code;
                outcome.Message = response.ErrorMessages[i];
                if (kind == FailureKind.Throttled)
                    outcome.Throttles++;
                outcome.Retry ??= new List<BufferedRecord>();
                for (int k = first; k < end; k++)
                    outcome.Retry.Add(records[k]); // a packed record that failed is resent whole
            }
            if (acceptedRecords > 0)
            {
                Interlocked.Add(ref _records, acceptedRecords);
                Interlocked.Add(ref _billedUnits, billedUnits);
                _settings.Metrics?.RecordsAccepted(acceptedBytes, billedUnits);
            }
            return outcome;
        }

        [MethodImpl(HotPath.Optimized)]
        private ICollection<string> Paused(DateTime now, out DateTime? nextResume, out ICollection<string> pausedForGood)
        {
            HashSet<string>? paused = null;
            HashSet<string>? forGood = null;
            nextResume = null;
            foreach (var stream in _streams)
            {
                if (stream.Value.PausedUntil > now)
                {
                    (paused ??= new HashSet<string>(StringComparer.Ordinal)).Add(stream.Key);
                    if (stream.Value.PausedForGood)
                        (forGood ??= new HashSet<string>(StringComparer.Ordinal)).Add(stream.Key);
                    if (nextResume is null || stream.Value.PausedUntil < nextResume)
                        nextResume = stream.Value.PausedUntil;
                }
            }
            pausedForGood = forGood ?? (ICollection<string>)Array.Empty<string>();
            return paused ?? (ICollection<string>)Array.Empty<string>();
        }

        private StreamHealth HealthOf(string stream)
        {
            if (!_streams.TryGetValue(stream, out var health))
                _streams.Add(stream, health = new StreamHealth());
            return health;
        }

        private void Wake()
        {
            TaskCompletionSource<bool> wake;
            lock (_lock)
            {
                wake = _wake;
                _wake = NewSignal();
            }
            wake.TrySetResult(true);
        }

        private void CompleteIdleWaiters()
        {
            lock (_lock)
                CompleteIdleWaitersLocked();
        }

        private void CompleteIdleWaitersLocked()
        {
            foreach (var waiter in _idleWaiters)
                waiter.TrySetResult(true); // RunContinuationsAsynchronously: nothing runs under the lock
            _idleWaiters.Clear();
        }

        private static bool IsNetworkFault(Exception ex, CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested)
                return false;
            return ex is HttpRequestException || ex is IOException || ex is TimeoutException || ex is OperationCanceledException
                || ex is System.Net.Sockets.SocketException;
        }

        /// <summary>Records a failed call's latency; always true (used in exception filters).</summary>
        private bool Measured(int records, long started)
        {
            _settings.Metrics?.Request(records, StopwatchSpan(Stopwatch.GetTimestamp() - started));
            return true;
        }

        private static TimeSpan Clamp(TimeSpan wait) => wait < TimeSpan.Zero ? TimeSpan.Zero : wait;

        private static TimeSpan StopwatchSpan(long ticks) => ticks <= 0 ? TimeSpan.Zero : TimeSpan.FromTicks((long)(ticks * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency)) + 1);

        private static TaskCompletionSource<bool> NewSignal() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>A stream's pause state (the circuit breaker).</summary>
        private sealed class StreamHealth
        {
            public DateTime? FailingSince;
            public TimeSpan CoolDown;
            public DateTime PausedUntil;
            public bool PausedForGood;
            public string? LastCode;

            public void Recovered()
            {
                FailingSince = null;
                CoolDown = TimeSpan.Zero;
                PausedUntil = DateTime.MinValue;
                PausedForGood = false;
            }
        }

        private sealed class CallOutcome
        {
            public CallOutcome(int capacity)
            {
                Accepted = new List<BufferedRecord>(capacity);
            }

            public static CallOutcome NothingAccepted(List<BufferedRecord> records, string code, string? message, int throttles) =>
                new CallOutcome(0) { Retry = records, Code = code, Message = message, Throttles = throttles };

            public static CallOutcome Failed(List<BufferedRecord> records, string code, string message) =>
                new CallOutcome(0) { Retry = records, Code = code, Message = message, Permanent = true };

            public List<BufferedRecord> Accepted { get; }

            /// <summary>Refused for good, per record.</summary>
            public List<BufferedRecord> Rejected { get; } = new List<BufferedRecord>();

            public string? RejectedCode { get; set; }

            public string? RejectedMessage { get; set; }

            /// <summary>Records to send again; null when none.</summary>
            public List<BufferedRecord>? Retry { get; set; }

            public string? Code { get; set; }

            public string? Message { get; set; }

            public int Throttles { get; set; }

            /// <summary>The call failed with an error that retrying does not cure.</summary>
            public bool Permanent { get; private set; }
        }
    }
}
