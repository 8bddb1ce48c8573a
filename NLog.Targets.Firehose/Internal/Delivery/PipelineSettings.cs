using System;
using System.Threading;
using System.Threading.Tasks;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Diagnostics;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>Settings of <see cref="DeliveryPipeline"/>.</summary>
    internal sealed class PipelineSettings
    {
        public int RecordsPerCall { get; set; } = FirehoseLimits.MaxRecordsPerCall;

        /// <summary>Call slots: PutRecordBatch calls in flight at once (<c>maxConcurrentRequests</c>).</summary>
        public int CallSlots { get; set; } = 8;

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

        /// <summary>With packing: every packed record is one gzip member.</summary>
        public bool GZip { get; set; }

        /// <summary>Fixed caps per stream: events and their bytes per second (0: none).</summary>
        public double MaxRecordsPerSecond { get; set; }

        public double MaxBytesPerSecond { get; set; }

        /// <summary>Where the counts go (and through it the meter).</summary>
        public TargetStatistics Statistics { get; set; } = new TargetStatistics();

        /// <summary>For messages: the region or endpoint.</summary>
        public string Where { get; set; } = string.Empty;

        /// <summary>For messages: the target (its type and name), the first word of every line.</summary>
        public string Name { get; set; } = "KinesisFirehose";

        /// <summary>The clock of pauses.</summary>
        public Func<DateTime> UtcNow { get; set; } = () => DateTime.UtcNow;

        /// <summary>How a call slot waits out its backoff.</summary>
        public Func<TimeSpan, CancellationToken, Task> Delay { get; set; } = (delay, token) => Task.Delay(delay, token);

        /// <summary>The backoff's jitter: a number in [0, 1).</summary>
        public Func<double> Random { get; set; } = SharedRandom;

        private static readonly Random Jitter = new Random();

        private static double SharedRandom()
        {
            lock (Jitter)
                return Jitter.NextDouble();
        }
    }
}
