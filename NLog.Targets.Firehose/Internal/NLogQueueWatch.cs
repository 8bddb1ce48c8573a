using System;
#if NET8_0_OR_GREATER
using System.Diagnostics.CodeAnalysis;
#endif
using System.Reflection;
using NLog.Common;
using NLog.Targets.Wrappers;

namespace NLog.Targets.Firehose.Internal
{
    /// <summary>
    /// Makes drops in NLog's own hand-over queue visible. <see cref="AsyncTaskTarget"/> keeps its queue private and, when
    /// it is full (<c>overflowAction="Discard"</c>), drops the oldest waiting event without telling the target. The queue
    /// itself raises <c>LogEventDropped</c> (as it does for <see cref="AsyncTargetWrapper.LogEventDropped"/>): this
    /// subscribes to it by reflection. Should a later NLog rename the pieces, the watch is off and says so at Debug level;
    /// nothing else changes.
    /// </summary>
    internal sealed class NLogQueueWatch : IDisposable
    {
        private readonly object _queue;
        private readonly EventInfo _event;
        private readonly EventHandler<LogEventDroppedEventArgs> _handler;

        private NLogQueueWatch(object queue, EventInfo dropped, EventHandler<LogEventDroppedEventArgs> handler)
        {
            _queue = queue;
            _event = dropped;
            _handler = handler;
        }

#if NET8_0_OR_GREATER
        [UnconditionalSuppressMessage("Trimming", "IL2026:RequiresUnreferencedCode", Justification = "When trimming removes NLog's members, the watch is off; nothing else depends on it.")]
        [UnconditionalSuppressMessage("Trimming", "IL2075:DynamicallyAccessedMembers", Justification = "When trimming removes NLog's members, the watch is off; nothing else depends on it.")]
#endif
        public static NLogQueueWatch? Start(AsyncTaskTarget target, Action<LogEventInfo?> dropped)
        {
            try
            {
                var queue = typeof(AsyncTaskTarget).GetField("_requestQueue", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(target);
                var droppedEvent = queue?.GetType().GetEvent("LogEventDropped", BindingFlags.Instance | BindingFlags.Public);
                if (queue is null || droppedEvent is null || droppedEvent.EventHandlerType != typeof(EventHandler<LogEventDroppedEventArgs>))
                {
                    InternalLogger.Debug("{0}: cannot watch NLog's hand-over queue in this NLog version: its drops are not counted", target);
                    return null;
                }
                EventHandler<LogEventDroppedEventArgs> handler = (_, e) => dropped(e.DroppedLogEventInfo);
                droppedEvent.AddEventHandler(queue, handler);
                return new NLogQueueWatch(queue, droppedEvent, handler);
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                InternalLogger.Debug(ex, "{0}: cannot watch NLog's hand-over queue: its drops are not counted", target);
                return null;
            }
        }

        public void Dispose()
        {
            try
            {
                _event.RemoveEventHandler(_queue, _handler);
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                InternalLogger.Debug(ex, "NLog's hand-over queue watch could not be removed");
            }
        }
    }
}
