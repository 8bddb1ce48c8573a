using System;
using NLog.Layouts;

namespace NLog.Targets.Firehose.Internal.Intake
{
    /// <summary>What <see cref="EventIntake"/> needs besides the parts it hands records to.</summary>
    internal sealed class IntakeSettings
    {
        public IntakeSettings(Layout layout, Layout streamName, RecordEncoder encoder, string name)
        {
            Layout = layout;
            StreamName = streamName;
            Encoder = encoder;
            Name = name;
        }

        public Layout Layout { get; }

        /// <summary>The delivery stream's name; validated already when it is fixed text.</summary>
        public Layout StreamName { get; }

        public RecordEncoder Encoder { get; }

        /// <summary>For messages: the target (its type and name).</summary>
        public string Name { get; }

        /// <summary>For messages: the region or endpoint.</summary>
        public string Where { get; set; } = string.Empty;

        /// <summary>Events of a stream broken by an error retrying does not cure go to NLog's failure path (<c>persistentErrorAction=Fail</c>).</summary>
        public bool FailBrokenStreams { get; set; }

        /// <summary>The durable buffer is forced to disk after every hand-over (<c>bufferFlushInterval=0</c>).</summary>
        public bool FlushJournalEveryHandOver { get; set; }

        /// <summary>Test seam: runs at the start of every hand-over, on NLog's writer task (a test can hold it there).</summary>
        public Action? BeforeHandOver { get; set; }
    }
}
