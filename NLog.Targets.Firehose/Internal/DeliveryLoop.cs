using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using NLog.Common;

namespace NLog.Targets.Firehose.Internal
{
    /// <summary>Settings of <see cref="DeliveryLoop"/>.</summary>
    internal sealed class DeliverySettings
    {
        public DeliverySettings(int takeSize, TimeSpan retryTimeLimit, TimeSpan pauseBase, TimeSpan pauseMax, string where)
        {
            TakeSize = takeSize;
            RetryTimeLimit = retryTimeLimit;
            PauseBase = pauseBase;
            PauseMax = pauseMax;
            Where = where;
        }

        /// <summary>Records taken from the buffer per round.</summary>
        public int TakeSize { get; }

        /// <summary>How long one round keeps retrying before its undelivered records go back and the stream pauses.</summary>
        public TimeSpan RetryTimeLimit { get; }

        /// <summary>The first pause of a stream after a persistent error; each further one doubles, up to <see cref="PauseMax"/>.</summary>
        public TimeSpan PauseBase { get; }

        public TimeSpan PauseMax { get; }

        /// <summary>For messages: the region or endpoint.</summary>
        public string Where { get; }
    }

    /// <summary>
    /// Sends what the buffer holds, round after round, in the background. Records that were not delivered go back to the
    /// buffer (never lost while it has room). A persistent error (missing stream, access denied, no credentials, or the
    /// retry time limit running out) pauses that stream's calls for a cool-down that doubles up to a cap — a circuit
    /// breaker — instead of hammering the service; the first successful call closes it. After the buffer had to drop
    /// events, the next successful round adds one summary event saying how many, of which levels, and when.
    /// </summary>
    internal sealed class DeliveryLoop
    {
        private readonly RecordSender _sender;
        private readonly MemoryRecordBuffer _buffer;
        private readonly DeliverySettings _settings;
        private readonly Func<DateTime> _utcNow;
        private readonly Func<string, DropReport, BufferedRecord?> _summary;
        private readonly object _target;
        private readonly Dictionary<string, Pause> _pauses = new Dictionary<string, Pause>(StringComparer.Ordinal);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly object _lock = new object();
        private readonly List<TaskCompletionSource<bool>> _idleWaiters = new List<TaskCompletionSource<bool>>();
        private TaskCompletionSource<bool> _wake = NewSignal();
        private Task? _run;
        private long _delivered;
        private long _rejected;

        public DeliveryLoop(RecordSender sender, MemoryRecordBuffer buffer, DeliverySettings settings, Func<DateTime> utcNow,
            Func<string, DropReport, BufferedRecord?> summary, object target)
        {
            _sender = sender;
            _buffer = buffer;
            _settings = settings;
            _utcNow = utcNow;
            _summary = summary;
            _target = target;
        }

        /// <summary>Records Firehose accepted.</summary>
        public long Delivered => Interlocked.Read(ref _delivered);

        /// <summary>Records Firehose refused for good.</summary>
        public long Rejected => Interlocked.Read(ref _rejected);

        public void Start() => _run = Task.Run(() => RunAsync(_stop.Token));

        /// <summary>
        /// Completes when nothing can be delivered right now: the buffer is empty, or every stream that still has records
        /// is paused by an error retrying does not cure. (A flush must not wait for a stream that does not exist; it does
        /// wait through the pause after a round ran out of retry time.)
        /// </summary>
        public Task WhenIdleAsync()
        {
            var waiter = NewSignal();
            TaskCompletionSource<bool> wake;
            lock (_lock)
            {
                if (_run is null || _run.IsCompleted)
                    return Task.CompletedTask;
                _idleWaiters.Add(waiter);
                wake = _wake;
                _wake = NewSignal();
            }
            wake.TrySetResult(true);
            return waiter.Task;
        }

        /// <summary>
        /// Delivers what can be delivered within <paramref name="drainTimeout"/>, then stops. Undelivered records stay in
        /// the buffer. Never throws.
        /// </summary>
        public void Stop(TimeSpan drainTimeout)
        {
            try
            {
                WhenIdleAsync().Wait(drainTimeout);
                _stop.Cancel();
                _run?.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException ex)
            {
                InternalLogger.Debug(ex, "{0}: delivery stopped", _target);
            }
            finally
            {
                CompleteIdleWaiters();
            }
        }

        private async Task RunAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                Task available = _buffer.Available;
                Task wake;
                lock (_lock)
                    wake = _wake.Task;

                var now = _utcNow();
                var paused = PausedStreams(now, out var nextResume, out var pausedForGood);
                var batch = _buffer.Take(_settings.TakeSize, paused);
                if (batch.Count == 0)
                {
                    // Idle unless records wait only for a transient pause to end (then a flush waits for them).
                    if (!_buffer.HasDeliverable(pausedForGood))
                        CompleteIdleWaiters();
                    var waits = new List<Task>(4) { available, wake, Task.Delay(Timeout.Infinite, stop) };
                    if (nextResume.HasValue)
                        waits.Add(Task.Delay(Clamp(nextResume.Value - now), stop));
                    await Task.WhenAny(waits).ConfigureAwait(false);
                    continue;
                }

                SendResult result;
                try
                {
                    result = await _sender.SendAsync(Group(batch), now + _settings.RetryTimeLimit, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    _buffer.Return(batch);
                    break;
                }
                catch (Exception ex) when (!(ex is OutOfMemoryException))
                {
                    InternalLogger.Error(ex, "{0}: delivery round failed; its {1} records are kept", _target, batch.Count);
                    _buffer.Return(batch);
                    continue;
                }
                Handle(result);
            }
        }

        private void Handle(SendResult result)
        {
            _buffer.Complete(result.Delivered);
            _buffer.Complete(result.Rejected);
            _buffer.Return(result.Undelivered);
            Interlocked.Add(ref _delivered, result.Delivered.Count);
            Interlocked.Add(ref _rejected, result.Rejected.Count);

            var now = _utcNow();
            foreach (var failure in result.Failures)
            {
                if (!failure.Persistent)
                {
                    InternalLogger.Error("{0}: delivery stream '{1}' ({2}): Firehose refused {3} events for good; error {4}: {5}",
                        _target, failure.Stream, _settings.Where, failure.Records, failure.ErrorCode, failure.Message);
                    continue;
                }
                if (!_pauses.TryGetValue(failure.Stream, out var pause))
                    _pauses[failure.Stream] = pause = new Pause();
                pause.CoolDown = pause.CoolDown == TimeSpan.Zero ? _settings.PauseBase : TimeSpan.FromTicks(Math.Min(pause.CoolDown.Ticks * 2, _settings.PauseMax.Ticks));
                pause.Until = now + pause.CoolDown;
                pause.Permanent = failure.Permanent;
                var (queued, bytes) = _buffer.Size;
                InternalLogger.Error("{0}: delivery stream '{1}' ({2}): error {3}: {4}; pausing its calls for {5:0.#} s; {6} events are kept ({7} in the buffer, {8:0.0} MB)",
                    _target, failure.Stream, _settings.Where, failure.ErrorCode, failure.Message, pause.CoolDown.TotalSeconds, failure.Records, queued, bytes / 1048576.0);
            }

            string? deliveredStream = null;
            foreach (var record in result.Delivered)
            {
                if (deliveredStream is null)
                    deliveredStream = record.Stream;
                if (_pauses.Remove(record.Stream))
                    InternalLogger.Info("{0}: delivery stream '{1}' accepts records again", _target, record.Stream);
            }

            if (deliveredStream != null)
            {
                var report = _buffer.TakeDropReport();
                if (report != null)
                {
                    InternalLogger.Warn("{0}: dropped {1} events (Trace {2}, Debug {3}, Info {4}, Warn {5}, Error {6}, Fatal {7}) between {8:o} and {9:o} to stay within the queue bounds",
                        _target, report.Total, report.ByLevel[0], report.ByLevel[1], report.ByLevel[2], report.ByLevel[3], report.ByLevel[4], report.ByLevel[5], report.FirstUtc, report.LastUtc);
                    var summary = _summary(deliveredStream, report);
                    if (summary != null)
                        _buffer.Add(summary);
                }
            }
        }

        private HashSet<string> PausedStreams(DateTime now, out DateTime? nextResume, out HashSet<string> pausedForGood)
        {
            var paused = new HashSet<string>(StringComparer.Ordinal);
            pausedForGood = new HashSet<string>(StringComparer.Ordinal);
            nextResume = null;
            foreach (var pause in _pauses)
            {
                if (pause.Value.Until > now)
                {
                    paused.Add(pause.Key);
                    if (pause.Value.Permanent)
                        pausedForGood.Add(pause.Key);
                    if (nextResume is null || pause.Value.Until < nextResume)
                        nextResume = pause.Value.Until;
                }
            }
            return paused;
        }

        private static Dictionary<string, List<BufferedRecord>> Group(List<BufferedRecord> batch)
        {
            var groups = new Dictionary<string, List<BufferedRecord>>(StringComparer.Ordinal);
            foreach (var record in batch)
            {
                if (!groups.TryGetValue(record.Stream, out var list))
                    groups.Add(record.Stream, list = new List<BufferedRecord>());
                list.Add(record);
            }
            return groups;
        }

        private void CompleteIdleWaiters()
        {
            TaskCompletionSource<bool>[] waiters;
            lock (_lock)
            {
                if (_idleWaiters.Count == 0)
                    return;
                waiters = _idleWaiters.ToArray();
                _idleWaiters.Clear();
            }
            foreach (var waiter in waiters)
                waiter.TrySetResult(true);
        }

        private static TimeSpan Clamp(TimeSpan wait) => wait < TimeSpan.Zero ? TimeSpan.Zero : wait;

        private static TaskCompletionSource<bool> NewSignal() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        private sealed class Pause
        {
            public TimeSpan CoolDown;
            public DateTime Until;
            public bool Permanent;
        }
    }
}
