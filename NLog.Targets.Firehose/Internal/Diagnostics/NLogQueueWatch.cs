using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
#if NET8_0_OR_GREATER
using System.Diagnostics.CodeAnalysis;
#endif
using System.Reflection;
using System.Threading;
using NLog.Common;
using NLog.Targets.Wrappers;

namespace NLog.Targets.Firehose.Internal.Diagnostics
{
    /// <summary>
    /// Keeps NLog's own hand-over queue honest. <see cref="AsyncTaskTarget"/> keeps that queue private, and three things
    /// happen in it that the target must know about:
    /// <list type="bullet">
    /// <item>When it is full (<c>overflowAction="Discard"</c>) it drops the oldest waiting event without telling the target.
    /// The queue itself raises <c>LogEventDropped</c>: the watch subscribes to it.</item>
    /// <item>Its writer can stop for good with events waiting (NLog issue #4890): a logging call arms the writer's timer only
    /// when its event found the queue empty and no writer task was running, and when it cannot take the target's lock within
    /// 50 ms it reads "a task is running" just before that task finds the queue empty and ends. Every later event finds the
    /// queue not empty and arms nothing. The watch looks every <c>period</c> while events are queued: events waiting with no
    /// writer task running at a look and again at the next (taken <see cref="ConfirmDelay"/> later), with no hand-over
    /// between them, means the writer stopped, and it arms the writer's timer itself (what the lost call would have
    /// done). The writer ends in NLog's continuation of a hand-over (it finds the queue empty), so the target also looks
    /// once right after each continuation (<see cref="RearmIfStopped"/>): most stops are mended at once, the looks are the
    /// backstop.</item>
    /// <item>Closing clears it: what is still there when a process exits without <c>Shutdown()</c> would be gone unseen.
    /// <see cref="TakeAll"/> lets the target take it first.</item>
    /// </list>
    /// All by reflection, contained here: should a later NLog rename the pieces, the watch is off (a Debug line) and nothing
    /// else changes.
    /// </summary>
    internal sealed class NLogQueueWatch : IDisposable
    {
        private readonly object _queue;
        private readonly EventInfo? _event;
        private readonly EventHandler<LogEventDroppedEventArgs>? _handler;
        private readonly Func<bool>? _queueIsEmpty;
        private readonly MethodInfo? _dequeueBatch;
        private readonly Timer? _writerTimer;
        private readonly FieldInfo? _writerTask;
        private readonly AsyncTaskTarget _target;
        private readonly LogEventInfo? _flushEvent;
        private readonly Func<long?> _handOvers;
        private readonly Action _restarted;
        private readonly ManualResetEventSlim? _stop;
        private readonly TimeSpan _period;
        private readonly TimeSpan _confirm;
        private readonly TimeSpan _idle;
        private long _lastHandOvers = -1;
        private bool _waitingAtLastLook;
        private int _disposed;

        private NLogQueueWatch(AsyncTaskTarget target, object queue, EventInfo? dropped, EventHandler<LogEventDroppedEventArgs>? handler, Func<bool>? queueIsEmpty,
            MethodInfo? dequeueBatch, Timer? writerTimer, FieldInfo? writerTask, LogEventInfo? flushEvent, Func<long?> handOvers, Action restarted, TimeSpan period)
        {
            _target = target;
            _writerTask = writerTask;
            _queue = queue;
            _event = dropped;
            _handler = handler;
            _queueIsEmpty = queueIsEmpty;
            _dequeueBatch = dequeueBatch;
            _writerTimer = writerTimer;
            _flushEvent = flushEvent;
            _handOvers = handOvers;
            _restarted = restarted;
            _period = period;
            _confirm = ConfirmDelay(target.TaskDelayMilliseconds);
            _idle = TimeSpan.FromTicks(period.Ticks * 10);
            if (queueIsEmpty != null && writerTimer != null && period > TimeSpan.Zero)
            {
                // A thread of its own, asleep between looks: a thread-pool timer would cost a worker's wake-up and its idle
                // spinning each time (README, "Performance and cost"), and would not fire while the pool is starved, one
                // of the cases it watches for.
                // Every period while events flow (queued at the last look, or handed over since the one before), ten
                // periods later (a second) while quiet: each look wakes this thread, ~0.1 ms of CPU on the 2-core virtual machines measured (README,
                // "Performance and cost"), so looks stay few. A look that finds events waiting with no writer looks again once NLog's
                // own wake-up is well past due (ConfirmDelay), so a stall the look after a continuation missed while events
                // flow is restarted within a period and that delay of its start; meanwhile a logging thread may wait on
                // NLog's full queue (overflowAction Block).
                var stop = _stop = new ManualResetEventSlim(false, spinCount: 0);
                new Thread(() =>
                {
                    var next = period;
                    while (!stop.Wait(next))
                        next = Look();
                    stop.Dispose();
                })
                { IsBackground = true, Name = "NLog.Targets.Firehose hand-over watch" }.Start();
            }
        }

        /// <summary>
        /// Called right after each of NLog's continuations of a hand-over, where it ran (<see cref="Intake.HandOverScheduler"/>):
        /// when that continuation found NLog's queue empty, ended the writer, and an event came in meanwhile whose logging
        /// call could not take the target's lock within 50 ms (a garbage collection while the writer held it will do), no
        /// one arms the writer's timer (NLog issue #4890) and the logging thread may wait on NLog's full queue until the
        /// watch's next look. So look now, once: events waiting and no writer task running arms the timer for NLog's own
        /// delay — what the logging call would have done; when that call is merely about to do it, the timer is armed twice
        /// for the same time, which NLog's writer shrugs off. A bound delegate and a field read: cheap enough for every
        /// hand-over. Returns whether it armed the timer.
        /// </summary>
        public bool RearmIfStopped()
        {
            if (_queueIsEmpty is null || Volatile.Read(ref _disposed) != 0)
                return false;
            try
            {
                if (_queueIsEmpty() || WriterRunning())
                    return false;
                _writerTimer!.Change(Math.Max(_target.TaskDelayMilliseconds, 0), Timeout.Infinite);
                return true;
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                InternalLogger.Debug(ex, "NLog's hand-over watch could not look at the queue");
                return false;
            }
        }

        /// <summary>
        /// Starts watching <paramref name="target"/>'s queue. <paramref name="handOvers"/> counts the hand-overs begun, or is
        /// null while one runs; <paramref name="restarted"/> is told each time the watch restarted a stopped writer.
        /// </summary>
#if NET8_0_OR_GREATER
        [UnconditionalSuppressMessage("Trimming", "IL2026:RequiresUnreferencedCode", Justification = "When trimming removes NLog's members, the watch is off; nothing else depends on it.")]
        [UnconditionalSuppressMessage("Trimming", "IL2075:DynamicallyAccessedMembers", Justification = "When trimming removes NLog's members, the watch is off; nothing else depends on it.")]
#endif
        public static NLogQueueWatch? Start(AsyncTaskTarget target, Action<LogEventInfo?> dropped, Func<long?> handOvers, Action restarted, TimeSpan period)
        {
            try
            {
                const BindingFlags Private = BindingFlags.Instance | BindingFlags.NonPublic;
                var queue = typeof(AsyncTaskTarget).GetField("_requestQueue", Private)?.GetValue(target);
                if (queue is null)
                {
                    InternalLogger.Debug("{0}: cannot reach NLog's hand-over queue in this NLog version: its drops are not counted, a stopped hand-over is not restarted, and closing may clear it", target);
                    return null;
                }
                var queueType = queue.GetType();
                var droppedEvent = queueType.GetEvent("LogEventDropped", BindingFlags.Instance | BindingFlags.Public);
                EventHandler<LogEventDroppedEventArgs>? handler = null;
                if (droppedEvent?.EventHandlerType == typeof(EventHandler<LogEventDroppedEventArgs>))
                {
                    handler = (_, e) => dropped(e.DroppedLogEventInfo);
                    droppedEvent.AddEventHandler(queue, handler);
                }
                else
                {
                    droppedEvent = null;
                    InternalLogger.Debug("{0}: cannot watch NLog's hand-over queue for drops in this NLog version: they are not counted", target);
                }
                var isEmpty = queueType.GetProperty("IsEmpty", BindingFlags.Instance | BindingFlags.Public);
                var dequeueBatch = queueType.GetMethod("DequeueBatch", BindingFlags.Instance | BindingFlags.Public, null, new[] { typeof(int), typeof(IList<AsyncLogEventInfo>) }, null);
                var writerTimer = typeof(AsyncTaskTarget).GetField("_lazyWriterTimer", Private)?.GetValue(target) as Timer;
                var writerTask = typeof(AsyncTaskTarget).GetField("_previousTask", Private);
                var flushEvent = typeof(AsyncTaskTarget).GetField("_flushEvent", Private)?.GetValue(target) as LogEventInfo;
                // The queue's IsEmpty as a bound delegate: read after every continuation of a hand-over (RearmIfStopped) and at every look.
                Func<bool>? queueIsEmpty = null;
                if (isEmpty?.PropertyType == typeof(bool) && isEmpty.GetGetMethod() is MethodInfo getter && writerTimer != null && writerTask?.FieldType == typeof(System.Threading.Tasks.Task))
                    queueIsEmpty = (Func<bool>)Delegate.CreateDelegate(typeof(Func<bool>), queue, getter);
                else
                {
                    InternalLogger.Debug("{0}: cannot restart NLog's hand-over in this NLog version should it stop", target);
                }
                if (dequeueBatch is null || flushEvent is null)
                {
                    dequeueBatch = null;
                    InternalLogger.Debug("{0}: cannot take NLog's hand-over queue at close in this NLog version: what it holds then is cleared", target);
                }
                return new NLogQueueWatch(target, queue, droppedEvent, handler, queueIsEmpty, dequeueBatch, writerTimer, writerTask, flushEvent, handOvers, restarted, period);
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                InternalLogger.Debug(ex, "{0}: cannot watch NLog's hand-over queue: its drops are not counted, a stopped hand-over is not restarted", target);
                return null;
            }
        }

        /// <summary>
        /// One look: events waiting and no writer task running (NLog's <c>_previousTask</c>) now and at the last look, and no
        /// hand-over begun in between, means the writer stopped. Returns when to look next: soon after finding events
        /// waiting with no writer (<see cref="ConfirmDelay"/>), a period later when events were queued or handed over
        /// since the last look, else (quiet) ten periods later.
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        internal TimeSpan Look()
        {
            try
            {
                bool queued = !_queueIsEmpty!();
                bool waiting = queued && !WriterRunning();
                long? handOvers = _handOvers();
                if (handOvers is null)
                {
                    _waitingAtLastLook = false; // a hand-over is running: the writer is alive
                    return _period;
                }
                bool handedOver = handOvers.Value != _lastHandOvers;
                _lastHandOvers = handOvers.Value;
                if (waiting && _waitingAtLastLook && !handedOver && Volatile.Read(ref _disposed) == 0)
                {
                    // Two looks in a row with events waiting, no writer task and no hand-over between them, at least twice
                    // NLog's own delay apart. A busy machine can delay NLog's timer that long too; firing it now is then
                    // harmless (it runs a little early), and it is counted all the same.
                    _restarted(); // counted and said first: what it restarts may be delivered at once
                    _writerTimer!.Change(0, Timeout.Infinite); // what the lost logging call would have done
                    _waitingAtLastLook = false;
                    return _period;
                }
                _waitingAtLastLook = waiting;
                // The long wait only when nothing was handed over since the last look: under load NLog's queue is often
                // found empty between two hand-overs, and a stop right after such a look held logging threads (full
                // queue, overflowAction Block) for the whole idle wait — 1.5 s in a web service flat out.
                return waiting ? _confirm : queued || handedOver ? _period : _idle;
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                InternalLogger.Debug(ex, "NLog's hand-over watch could not look at the queue");
                return _idle;
            }
        }

        /// <summary>A writer task running: NLog's <c>_previousTask</c> set and not completed (NLog's own test for "another task is running").</summary>
        private bool WriterRunning() => _writerTask!.GetValue(_target) is System.Threading.Tasks.Task { IsCompleted: false };

        /// <summary>
        /// How long after finding events waiting with no writer the watch looks again: NLog arms its writer's timer for
        /// <c>taskDelayMilliseconds</c> when an event finds the queue empty, and on a busy machine that timer runs late: in
        /// flat-out bursts on the 2-core build machine a second look 20 ms after the first "restarted" writers that would
        /// have started by themselves 4–22 ms later (README, "What is guaranteed"). So twice NLog's delay, and at least
        /// 100 ms: a lost wake-up is mended at once where the writer ends (<see cref="RearmIfStopped"/>), and this backstop
        /// must not take a late timer for a stop.
        /// </summary>
        public static TimeSpan ConfirmDelay(int taskDelayMilliseconds) => TimeSpan.FromMilliseconds(Math.Max(2L * Math.Max(taskDelayMilliseconds, 0), 100));

        /// <summary>
        /// Takes every event waiting in NLog's queue (at close, before NLog clears it). Flush requests in it are completed;
        /// the events' own continuations are the caller's to call once it took them.
        /// </summary>
        public List<AsyncLogEventInfo> TakeAll()
        {
            var taken = new List<AsyncLogEventInfo>();
            if (_dequeueBatch is null)
                return taken;
            try
            {
                var all = new List<AsyncLogEventInfo>();
                _dequeueBatch.Invoke(_queue, new object[] { int.MaxValue, all });
                foreach (var item in all)
                {
                    if (ReferenceEquals(item.LogEvent, _flushEvent))
                        item.Continuation(null);
                    else
                        taken.Add(item);
                }
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                InternalLogger.Debug(ex, "NLog's hand-over queue could not be taken at close");
            }
            return taken;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
                return;
            _stop?.Set();
            try
            {
                if (_event != null && _handler != null)
                    _event.RemoveEventHandler(_queue, _handler);
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                InternalLogger.Debug(ex, "NLog's hand-over queue watch could not be removed");
            }
        }
    }
}
