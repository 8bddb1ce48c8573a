using System;
using System.IO;
using NLog.Common;

namespace NLog.Targets.Firehose.Tests.Support
{
    /// <summary>Captures NLog's InternalLogger output for the duration of a test.</summary>
    internal sealed class InternalLogCapture : IDisposable
    {
        private readonly StringWriter _writer = new StringWriter();
        private readonly TextWriter _synchronized;
        private readonly TextWriter? _previousWriter;
        private readonly LogLevel _previousLevel;

        public InternalLogCapture(LogLevel level)
        {
            _previousWriter = InternalLogger.LogWriter;
            _previousLevel = InternalLogger.LogLevel;
            _synchronized = TextWriter.Synchronized(_writer);
            InternalLogger.LogWriter = _synchronized;
            InternalLogger.LogLevel = level;
        }

        public string Text
        {
            get
            {
                lock (_synchronized)
                    return _writer.ToString();
            }
        }

        public void Dispose()
        {
            InternalLogger.LogWriter = _previousWriter;
            InternalLogger.LogLevel = _previousLevel;
        }
    }
}
