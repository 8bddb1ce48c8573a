using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using NLog.Common;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Diagnostics;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// Delivers what the buffer holds, in the background, with up to <see cref="PipelineSettings.CallSlots"/> calls in
    /// flight. No task waits while there is nothing to do: a hand-over (<see cref="RecordsAdded"/>), a call's end and
    /// one timer (a linger's or a pause's end) each start a call when a slot is free and one is worth making (the
    /// oldest records of one stream, taken from the buffer only then, so what waits stays where the drop policy reaches
    /// it). After a call (<see cref="CallOutcome"/>) accepted records are done, those refused for good counted and
    /// said, the rest go back to the buffer's front. A slot whose call made no progress backs off exponentially with
    /// full jitter, as the AWS SDKs do; after a partly accepted call it waits in proportion to what failed; a fully
    /// accepted call ends every backoff. Streams that keep failing pause (<see cref="CircuitBreaker"/>). After drops,
    /// the next accepted call adds a summary event.
    /// </summary>
    internal sealed class DeliveryPipeline
    {
        private readonly IFirehoseClient _client;
        private readonly MemoryRecordBuffer _buffer;
        private readonly PipelineSettings _settings;
        private readonly TargetStatistics _statistics;
        private readonly CircuitBreaker _breaker;
        private readonly RateCap _cap;
        private readonly QuotaLearner _learner;
        private readonly Backoff _backoff;
        private readonly Func<string, DropReport, BufferedRecord?>? _summary;
        private readonly object _lock = new object();
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
        private readonly long _lingerTicks;

        /// <summary>A pipeline from <paramref name="buffer"/> to <paramref name="client"/>; <paramref name="summary"/> renders the drop summary event.</summary>
        public DeliveryPipeline(IFirehoseClient client, MemoryRecordBuffer buffer, PipelineSettings settings, Func<string, DropReport, BufferedRecord?>? summary = null)
        {
            _client = client;
            _buffer = buffer;
            _settings = settings;
            _statistics = settings.Statistics;
            var streams = new DeliveryStreams(); // each stream's health, bucket and learned rate, in one object
            _breaker = new CircuitBreaker(settings.RetryTimeLimit, settings.PauseBase, settings.PauseMax, streams);
            _cap = new RateCap(settings.MaxRecordsPerSecond, settings.MaxBytesPerSecond, streams: streams);
            _learner = new QuotaLearner(_cap, _statistics, settings.Name, streams: streams);
            _backoff = new Backoff(settings.BackoffBase, settings.BackoffMax, settings.Random);
            _summary = summary;
            _lingerTicks = (long)(settings.Linger.TotalSeconds * Stopwatch.Frequency);
            _slotAttempts = new int[Math.Max(1, settings.CallSlots)];
            for (int i = _slotAttempts.Length - 1; i >= 0; i--)
                _freeSlots.Push(i);
            _timer = new Timer(OnTimer, null, Timeout.Infinite, Timeout.Infinite);
        }

        /// <summary>Every stream's learned rate (events and bytes a second), for the meter's gauge.</summary>
        public IEnumerable<KeyValuePair<string, (double Records, double Bytes)>> LearnedRates => _learner.Rates;

        /// <summary>Whether <paramref name="stream"/> is broken (<see cref="CircuitBreaker.IsBroken"/>); <paramref name="code"/> is its error.</summary>
        public bool IsBroken(string stream, out string? code) => _breaker.IsBroken(stream, out code);

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
                InternalLogger.Debug(ex, "{0}: delivery stopped", _settings.Name);
            }
            finally
            {
                _timer.Dispose();
                lock (_lock)
                    CompleteIdleWaitersLocked();
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
                    var now = _settings.UtcNow();
                    var blocked = _breaker.Paused(now, out var nextResume, out var broken);
                    long capDue = long.MaxValue;
                    if (_cap.IsOn)
                        blocked = _cap.Waiting(blocked, out capDue); // streams at their rate cap wait; their records stay deliverable
                    // A call that is not full waits to fill up for Linger, unless someone waits for a flush.
                    long readyBefore = _lingerTicks <= 0 || _idleWaiters.Count > 0 ? long.MaxValue : Stopwatch.GetTimestamp() - _lingerTicks;
                    call = _buffer.TakeCall(blocked, _settings.PackedRecordBytes > 0 ? int.MaxValue : _settings.RecordsPerCall, FirehoseLimits.MaxBytesPerCall, readyBefore, out long waitingSince,
                        _cap.IsOn ? _cap.Allowances : null);
                    if (call.Count == 0)
                    {
                        if (_callsInFlight == 0 && _idleWaiters.Count > 0 && !_buffer.HasDeliverable(broken))
                            CompleteIdleWaitersLocked();
                        long due = Math.Min(capDue, waitingSince == long.MaxValue ? long.MaxValue : waitingSince + _lingerTicks);
                        if (nextResume.HasValue)
                            due = Math.Min(due, Stopwatch.GetTimestamp() + (long)(Math.Max(0, (nextResume.Value - now).TotalSeconds) * Stopwatch.Frequency));
                        ArmTimerLocked(due);
                        return;
                    }
                    _cap.Spend(call);
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
                    StartOnPool(slot, call, stop);
                first = false;
            }
        }

        /// <summary>Starts a call on the thread pool: one work item (no task wrapping a task), and the application's execution context stays where it is.</summary>
        private void StartOnPool(int slot, List<BufferedRecord> call, CancellationToken stop) =>
            ThreadPool.UnsafeQueueUserWorkItem(static state =>
            {
                var start = ((DeliveryPipeline Pipeline, int Slot, List<BufferedRecord> Call, CancellationToken Stop))state!;
                _ = start.Pipeline.RunCallAsync(start.Slot, start.Call, start.Stop);
            }, (this, slot, call, stop));

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
                var wire = RecordPacker.PackCall(call, _settings.PackedRecordBytes, _settings.RecordsPerCall, out var starts, out var leftOver, _settings.GZip);
                if (leftOver != null)
                    _buffer.Return(leftOver); // what did not fit goes back at once
                _statistics.CallMade();
                CallOutcome outcome;
                try
                {
                    // Sent here, not in an asynchronous method of its own: each one more in a call's chain is compiled at
                    // start-up and boxed per call. The answer is read outside the filtered try: an error there is not the call's.
                    long started = Stopwatch.GetTimestamp();
                    PutRecordBatchResult? response = null;
                    CallOutcome? failure = null;
                    try
                    {
                        response = await _client.PutRecordBatchAsync(stream, wire, stop).ConfigureAwait(false);
                        _statistics.CallEnded(wire.Count, started);
                    }
                    catch (Exception ex) when (_statistics.CallEnded(wire.Count, started) && CallOutcome.FromFailure(ex, call, stop) is CallOutcome failed)
                    {
                        failure = failed;
                    }
                    outcome = failure ?? CallOutcome.FromResponse(call, wire, starts, response!);
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
                    await Task.WhenAny(_settings.Delay(wait, stop), woken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                InternalLogger.Error(ex, "{0}: a delivery call failed unexpectedly; its records stay in the buffer", _settings.Name);
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
            _statistics.CallBooked(outcome.Accepted.Count, outcome.Rejected.Count, outcome.Throttles, outcome.Retry != null);
            _learner.Observe(call, outcome);
            if (outcome.AcceptedRecords > 0)
                _statistics.RecordsAccepted(outcome.AcceptedRecords, outcome.AcceptedBytes, outcome.BilledUnits, outcome.AcceptedEventBytes);
            if (outcome.Rejected.Count > 0)
                InternalLogger.Error("{0}: delivery stream '{1}' ({2}): Firehose refused {3} events for good; error {4}: {5}",
                    _settings.Name, stream, _settings.Where, outcome.Rejected.Count, outcome.RejectedCode, outcome.RejectedMessage);

            // Before this call stops counting as in flight, so a flush cannot see "idle" before the summary is queued.
            if (outcome.Accepted.Count > 0)
                AddDropSummary(stream);

            var now = _settings.UtcNow();
            TimeSpan wait = TimeSpan.Zero;
            TimeSpan pause = TimeSpan.Zero;
            bool wakeOthers = false;
            lock (_lock)
            {
                _callsInFlight--;
                if (outcome.Accepted.Count > 0)
                {
                    if (_breaker.Accepted(stream))
                        InternalLogger.Info("{0}: delivery stream '{1}' accepts records again", _settings.Name, stream);
                    wakeOthers = outcome.Accepted.Count == call.Count;
                }

                if (outcome.Retry != null)
                {
                    if (outcome.Permanent)
                    {
                        pause = _breaker.Broken(stream, outcome.Code ?? "unknown", now);
                    }
                    else if (outcome.Accepted.Count > 0)
                    {
                        // Partly accepted: there is capacity. Wait briefly, in proportion to what failed.
                        attempt = 0;
                        wait = TimeSpan.FromTicks((long)(_backoff.Next(0).Ticks * ((double)outcome.Retry.Count / call.Count)));
                    }
                    else
                    {
                        pause = _breaker.NoProgress(stream, outcome.Code ?? "unknown", now);
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

            if (pause > TimeSpan.Zero)
                Paused(stream, outcome, pause);
            if (outcome.Retry != null)
                InternalLogger.Debug("{0}: {1} records of delivery stream '{2}' go back to the buffer after {3}; this call slot waits {4} ms", _settings.Name, outcome.Retry.Count, stream, outcome.Code, (long)wait.TotalMilliseconds);
            if (wakeOthers)
                Wake();
            return wait;
        }

        private void Paused(string stream, CallOutcome outcome, TimeSpan pause)
        {
            var (records, bytes) = _buffer.Size;
            InternalLogger.Error("{0}: delivery stream '{1}' ({2}): error {3}: {4}; pausing its calls for {5:0.#} s; events are kept ({6} in the buffer, {7:0.0} MB)",
                _settings.Name, stream, _settings.Where, outcome.Code,
                outcome.Permanent ? outcome.Message ?? "no message" : $"no call made progress for {_settings.RetryTimeLimit.TotalSeconds:0.#} s; last: {outcome.Message}",
                pause.TotalSeconds, records, bytes / 1048576.0);
        }

        private void AddDropSummary(string stream)
        {
            var report = _buffer.Drops.TakeReport();
            if (report is null)
                return;
            InternalLogger.Warn("{0}: dropped {1} events ({2}) between {3:o} and {4:o} to stay within the queue bounds",
                _settings.Name, report.Total, report.ByLevel, report.FirstUtc, report.LastUtc);
            var summary = _summary?.Invoke(stream, report);
            if (summary != null)
                _buffer.Add(summary, beyondBounds: true);
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

        private void CompleteIdleWaitersLocked()
        {
            foreach (var waiter in _idleWaiters)
                waiter.TrySetResult(true); // RunContinuationsAsynchronously: nothing runs under the lock
            _idleWaiters.Clear();
        }

        private static TaskCompletionSource<bool> NewSignal() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
