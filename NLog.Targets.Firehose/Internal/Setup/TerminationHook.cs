using System;
#if NET8_0_OR_GREATER
using System.Runtime.InteropServices;
using NLog.Common;
#endif

namespace NLog.Targets.Firehose.Internal.Setup
{
    /// <summary>
    /// SIGTERM (<c>docker stop</c>, Kubernetes, systemd) ends a plain .NET console application at once: no
    /// <c>ProcessExit</c>, so NLog never closes its targets and what they hold is gone. This hook lets the target deliver
    /// first, for a bounded time, and then lets the signal take its default course (it never cancels it). An application
    /// whose host handles SIGTERM itself (the Generic Host) shuts down as before, after the target's delivery. Only on
    /// .NET 8 and later (<c>PosixSignalRegistration</c>); on other runtimes it does nothing.
    /// </summary>
    internal sealed class TerminationHook : IDisposable
    {
#if NET8_0_OR_GREATER
        private readonly PosixSignalRegistration? _registration;
#endif

        private TerminationHook(Action onTerminate, object owner)
        {
#if NET8_0_OR_GREATER
            try
            {
                _registration = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
                {
                    try
                    {
                        onTerminate();
                    }
                    catch (Exception ex) when (!(ex is OutOfMemoryException))
                    {
                        InternalLogger.Error(ex, "{0}: could not deliver at SIGTERM", owner);
                    }
                });
            }
            catch (Exception ex) when (ex is PlatformNotSupportedException || ex is System.IO.IOException || ex is UnauthorizedAccessException)
            {
                InternalLogger.Debug(ex, "{0}: no SIGTERM hook on this platform", owner);
            }
#endif
        }

        /// <summary>Calls <paramref name="onTerminate"/> (which must bound its own time) when the process gets SIGTERM.</summary>
        public static TerminationHook Register(Action onTerminate, object owner) => new TerminationHook(onTerminate, owner);

        public void Dispose()
        {
#if NET8_0_OR_GREATER
            _registration?.Dispose();
#endif
        }
    }
}
