using System;
using System.Threading;
using System.Threading.Tasks;
using NLog.Targets.Firehose.Internal.Aws;

namespace NLog.Targets.Firehose.Internal.Setup
{
    /// <summary>
    /// What tests and benchmarks may change in a <see cref="FirehoseTarget"/> that users cannot: the client, the clock of
    /// backoffs, the environment, and the target's internal sizes and periods. Read when the target initializes.
    /// </summary>
    internal sealed class TargetSeams
    {
        /// <summary>Makes the Firehose client for the endpoint in use; null: the real client over HTTP.</summary>
        public Func<FirehoseEndpoint, IFirehoseClient>? ClientFactory { get; set; }

        /// <summary>How a call slot waits out its backoff.</summary>
        public Func<TimeSpan, CancellationToken, Task> Delay { get; set; } = (delay, token) => Task.Delay(delay, token);

        /// <summary>The environment (AWS_REGION, AWS_ENDPOINT_URL_FIREHOSE, AWS_PROFILE…).</summary>
        public Func<string, string?> GetEnvironmentVariable { get; set; } = Environment.GetEnvironmentVariable;

        /// <summary>The AWS SDK's fallback region chain.</summary>
        public Func<string?> SdkFallbackRegion { get; set; } = () => Amazon.Runtime.FallbackRegionFactory.GetRegionEndpoint()?.SystemName;

        /// <summary>How long closing keeps delivering what the buffer holds.</summary>
        public TimeSpan CloseDrain { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>Runs when closing begins its drain (a test can let a held endpoint answer then).</summary>
        public Action? DrainBegun { get; set; }

        /// <summary>The first pause of a stream after a persistent error.</summary>
        public TimeSpan PauseBase { get; set; } = TimeSpan.FromSeconds(1);

        /// <summary>
        /// How often the target looks for a stopped hand-over while NLog's queue holds events (a look that finds events waiting
        /// with no writer looks again soon, and a second such look with none taken between restarts it); ten periods (a second)
        /// while the queue is empty. Not shorter: every look wakes a thread.
        /// </summary>
        public TimeSpan StallCheckPeriod { get; set; } = TimeSpan.FromMilliseconds(100);

        /// <summary>Runs before each step of starting the parts, with its name (a test can make one fail).</summary>
        public Action<string>? BeforeStartStep { get; set; }

        /// <summary>Runs at the start of every hand-over, on NLog's writer task (a test can hold it there).</summary>
        public Action? BeforeHandOver { get; set; }

        /// <summary>Runs after each of NLog's continuations of a hand-over, where it ran, before the target looks whether NLog's writer ended with events waiting.</summary>
        public Action? AfterNLogContinuation { get; set; }

        /// <summary>Runs on NLog's thread right after it queued a hand-over to the pool (a test can hold NLog there until the hand-over completed).</summary>
        public Action<Task>? HandOverQueued { get; set; }
    }
}
