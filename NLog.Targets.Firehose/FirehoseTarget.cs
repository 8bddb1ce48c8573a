using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using NLog.Common;
using NLog.Layouts;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Diagnostics;
using NLog.Targets.Firehose.Internal.Intake;
using NLog.Targets.Firehose.Internal.Setup;
using NLog.Targets.Wrappers;

namespace NLog.Targets.Firehose
{
    /// <summary>
    /// Sends log events to an Amazon Kinesis Data Firehose delivery stream with PutRecordBatch: batched, SigV4-signed
    /// with the AWS SDK's default credential chain, and retried (throttling, 5xx, network faults and per-record
    /// failures) without ever resending a record Firehose accepted.
    /// </summary>
    /// <example><code>
    /// &lt;target xsi:type="KinesisFirehose" name="fh" deliveryStreamName="app-logs" region="eu-west-1" /&gt;
    /// </code></example>
    [Target("KinesisFirehose")]
    public sealed class FirehoseTarget : AsyncTaskTarget
    {
        private TargetParts? _parts;

        /// <summary>Creates the target with defaults tuned for Firehose.</summary>
        public FirehoseTarget()
        {
            Layout = CreateDefaultLayout();
            // NLog's inherited queue options keep their meaning: its hand-over queue in front of the target's buffer, and
            // the events of one hand-over. Both small: the buffer (maxQueueEvents, maxQueueBytes) is where events wait
            // through outages and where the bounds drop by level, and events in NLog's queue are outside maxQueueBytes and
            // lost at exit. Two hand-overs' worth, so one fills while the last is encoded.
            BatchSize = 1_000;
            QueueLimit = 2_000;
            // Take events out of NLog's queue within 10 ms: long waits there let events survive into older GC generations,
            // and shorter ones make more, smaller hand-overs, each with its own cost (README, "Performance and cost"). Calls
            // fill up in the target's own buffer (lingerMilliseconds). Below NLog's 50 ms, where it starts holding back
            // partial batches.
            TaskDelayMilliseconds = 10;
            // When logging outpaces the target's own work (rendering and encoding: CPU, never the network, which the buffer
            // absorbs), the logging call waits for room in the small hand-over queue, as NLog's AsyncTargetWrapper with
            // overflowAction=Block does: then every drop happens in the buffer, by level, and a burst is not lost.
            OverflowAction = AsyncTargetWrapperOverflowAction.Block;
        }

        /// <summary>
        /// The delivery stream's name (1–64 characters of <c>[a-zA-Z0-9_.-]</c>). Rendered per event; events are grouped
        /// per rendered name. Required.
        /// </summary>
        /// <remarks>Default: none (required)</remarks>
        public Layout? DeliveryStreamName { get; set; }

        /// <summary>The AWS region (e.g. <c>eu-west-1</c>).</summary>
        /// <remarks>Default: the profile's region, else <c>AWS_REGION</c>, else <c>AWS_DEFAULT_REGION</c>, else the AWS SDK's fallback chain</remarks>
        public Layout? Region { get; set; }

        /// <summary>The name of the AWS profile (shared config/credentials files) to take credentials and region from.</summary>
        /// <remarks>Default: none: the AWS SDK's default credential chain (which honours <c>AWS_PROFILE</c>)</remarks>
        public Layout? Profile { get; set; }

        /// <summary>The path of the shared credentials file that holds <see cref="Profile"/>.</summary>
        /// <remarks>Default: the AWS SDK's default locations (<c>~/.aws/credentials</c>, <c>~/.aws/config</c>)</remarks>
        public Layout? ProfilesLocation { get; set; }

        /// <summary>
        /// The ARN of an IAM role to assume for the calls (e.g. a role in the account that owns the stream), with the
        /// credentials of <see cref="Profile"/> or of the default chain. The temporary credentials are cached and renewed
        /// before they expire; STS is reached as the AWS SDK reaches it (<c>AWS_REGION</c>, <c>AWS_ENDPOINT_URL_STS</c>).
        /// </summary>
        /// <remarks>Default: none: the calls are signed with the profile's or the default chain's credentials</remarks>
        public Layout? RoleArn { get; set; }

        /// <summary>The external ID the role's trust policy asks for (cross-account roles). Only with <see cref="RoleArn"/>.</summary>
        /// <remarks>Default: none</remarks>
        public Layout? ExternalId { get; set; }

        /// <summary>The session name of the assumed role, seen in CloudTrail. Only with <see cref="RoleArn"/>.</summary>
        /// <remarks>Default: <c>NLog.Targets.Firehose</c></remarks>
        public Layout? RoleSessionName { get; set; }

        /// <summary>
        /// The endpoint URL, used as is (a VPC endpoint, a local stand-in, LocalStack or moto).
        /// </summary>
        /// <remarks>Default: <c>AWS_ENDPOINT_URL_FIREHOSE</c>, else <c>AWS_ENDPOINT_URL</c>, else <c>https://firehose.{region}.amazonaws.com</c> (partition-aware)</remarks>
        public Layout? ServiceUrl { get; set; }

        /// <summary>
        /// The HTTP proxy for calls to Firehose, e.g. <c>http://proxy.example.com:3128</c>. User and password, if the proxy
        /// needs them, go in the URL, the password from the environment so that it never appears in diagnostics:
        /// <c>http://user:${environment:PROXY_PASSWORD}@proxy:3128</c> (NLog's own trace shows the layout, not its value).
        /// </summary>
        /// <remarks>Default: the system's proxy: <c>HTTPS_PROXY</c> / <c>HTTP_PROXY</c> and <c>NO_PROXY</c>, as .NET reads them</remarks>
        public Layout? ProxyUrl { get; set; }

        /// <summary>Hosts that bypass <see cref="ProxyUrl"/>: a comma-separated list (<c>*.internal,10.0.0.1</c>).</summary>
        /// <remarks>Default: none</remarks>
        public Layout? ProxyBypass { get; set; }

        /// <summary>
        /// The region that signs the calls, when it differs from the one <see cref="ServiceUrl"/> or <see cref="Region"/>
        /// implies (a VPC endpoint or a proxying gateway with its own host name).
        /// </summary>
        /// <remarks>Default: the region in use</remarks>
        public Layout? AuthenticationRegion { get; set; }

        /// <summary>Use the FIPS endpoint <c>https://firehose-fips.{region}.{suffix}</c>. Ignored when <see cref="ServiceUrl"/> is set.</summary>
        /// <remarks>Default: <see langword="false"/> (also turned on by <c>AWS_USE_FIPS_ENDPOINT=true</c>)</remarks>
        public bool UseFipsEndpoint { get; set; }

        /// <summary>
        /// End every record with exactly one <c>\n</c> (trailing line breaks of the rendered text are trimmed first), so
        /// objects Firehose writes to S3 are newline-delimited.
        /// </summary>
        /// <remarks>Default: <see langword="true"/></remarks>
        public bool AppendNewLine { get; set; } = true;

        /// <summary>What to do with an event that renders larger than the 1,000 KiB record limit. Either way it is counted and reported.</summary>
        /// <remarks>Default: <see cref="Firehose.OversizeRecordAction.Truncate"/></remarks>
        public OversizeRecordAction OversizeRecordAction { get; set; } = OversizeRecordAction.Truncate;

        /// <summary>
        /// Pack many newline-delimited events into one Firehose record (up to <see cref="PackedRecordBytes"/>; an event is
        /// never split). Firehose bills each record rounded up to 5 KB and counts records against the stream's quota, so
        /// for S3 destinations this divides the bill and the calls by a large factor. Leave it off for OpenSearch, Splunk,
        /// HTTP endpoints, Lambda transforms, format conversion and dynamic partitioning: they take one record as one
        /// event. Needs <see cref="AppendNewLine"/>.
        /// </summary>
        /// <remarks>Default: <see langword="false"/></remarks>
        public bool RecordPacking { get; set; }

        /// <summary>The largest packed record, in bytes (5,120 to 1,024,000), with <see cref="RecordPacking"/>.</summary>
        /// <remarks>Default: <see langword="1024000"/> (1,000 KiB, Firehose's record limit)</remarks>
        public int PackedRecordBytes { get; set; } = FirehoseLimits.MaxRecordBytes;

        /// <summary>
        /// Compress every packed record on its own (<see cref="RecordCompression.GZip"/>: one gzip member per record), so
        /// Firehose ingests — and bills — a fraction of the bytes. Needs <see cref="RecordPacking"/>. For S3 destinations
        /// with the stream's own compression off; every other destination would see gzip bytes.
        /// </summary>
        /// <remarks>Default: <see cref="RecordCompression.None"/></remarks>
        public RecordCompression Compression { get; set; } = RecordCompression.None;

        /// <summary>
        /// A fixed cap on the events per second this target sends to each delivery stream: a share of a stream's
        /// records/s quota that other producers also use. Counted in events (with <see cref="RecordPacking"/> Firehose
        /// counts far fewer records). Without it the target still learns each stream's quota from Firehose's throttling
        /// and sends just under it; with it, the lower of the two holds.
        /// </summary>
        /// <remarks>Default: <see langword="0"/> (no cap)</remarks>
        public int MaxRecordsPerSecond { get; set; }

        /// <summary>A fixed cap on the bytes per second this target sends to each delivery stream, counted as encoded (before packing's compression).</summary>
        /// <remarks>Default: <see langword="0"/> (no cap)</remarks>
        public long MaxBytesPerSecond { get; set; }

        /// <summary>
        /// How long a PutRecordBatch call that is not full waits for more events. Fewer, fuller calls keep the per-stream
        /// request quota (1,000-2,000 requests/s, shared by every instance) free. <c>Flush()</c> and closing send at once.
        /// </summary>
        /// <remarks>Default: <see langword="200"/> ms</remarks>
        public int LingerMilliseconds { get; set; } = 200;

        /// <summary>The first retry's backoff ceiling; each retry doubles it (with full jitter) up to <see cref="RetryBackoffMaxMilliseconds"/>.</summary>
        /// <remarks>Default: <see langword="100"/> ms</remarks>
        public int RetryBackoffMilliseconds { get; set; } = 100;

        /// <summary>The largest wait between two retries.</summary>
        /// <remarks>Default: <see langword="10000"/> ms</remarks>
        public int RetryBackoffMaxMilliseconds { get; set; } = 10_000;

        /// <summary>
        /// How long a stream may keep failing (throttled, 5xx, unreachable: no call making progress) before its calls
        /// pause (see <see cref="MaxPauseSeconds"/>). Its events stay in the buffer either way; they are not dropped.
        /// </summary>
        /// <remarks>Default: <see langword="60"/> s</remarks>
        public int RetryTimeLimitSeconds { get; set; } = 60;

        /// <summary>
        /// The bound, in bytes, of the events the target holds (waiting or in flight), next to <see cref="MaxQueueEvents"/> in events.
        /// At the bound the least important events are dropped first (Trace and Debug, then Info, then Warn and above),
        /// counted by level, and a summary event is sent once delivery resumes.
        /// </summary>
        /// <remarks>Default: <see langword="67108864"/> (64 MiB)</remarks>
        public long MaxQueueBytes { get; set; } = 64L * 1024 * 1024;

        /// <summary>
        /// The bound, in events, of what the target holds (waiting or in flight) while Firehose is slow or unreachable, next
        /// to <see cref="MaxQueueBytes"/>: a burst of 200,000 events fits. NLog's inherited <c>queueLimit</c> bounds only
        /// its small hand-over queue in front of it.
        /// </summary>
        /// <remarks>Default: <see langword="200000"/></remarks>
        public int MaxQueueEvents { get; set; } = 200_000;

        /// <summary>Records per PutRecordBatch call, at most the service's 500; calls are also cut at 4,000,000 data bytes.</summary>
        /// <remarks>Default: <see langword="500"/></remarks>
        public int MaxRecordsPerCall { get; set; } = FirehoseLimits.MaxRecordsPerCall;

        /// <summary>
        /// The longest pause of a stream's calls after a persistent error (missing stream, access denied, refused
        /// credentials, or no progress for <see cref="RetryTimeLimitSeconds"/>). Pauses start at 1 s and double up to this; events are kept
        /// meanwhile and flow as soon as a call succeeds.
        /// </summary>
        /// <remarks>Default: <see langword="60"/> s</remarks>
        public int MaxPauseSeconds { get; set; } = 60;

        /// <summary>
        /// What happens to new events for a stream that failed with an error retrying does not cure (missing stream,
        /// access denied, refused credentials), while it lasts: <c>Keep</c> them in the buffer and send them once a call
        /// succeeds, or <c>Fail</c> them to NLog's failure path at once so a <c>FallbackGroup</c> wrapper takes them.
        /// </summary>
        /// <remarks>Default: <see cref="Firehose.PersistentErrorAction.Keep"/></remarks>
        public PersistentErrorAction PersistentErrorAction { get; set; } = PersistentErrorAction.Keep;

        /// <summary>
        /// How many PutRecordBatch calls may be in flight at once: the call slots. A slot whose call failed backs off on its
        /// own, so retry waits and round trips overlap; records a call did not get accepted go back to the front of the
        /// buffer and ride along in the next call.
        /// </summary>
        /// <remarks>Default: <see langword="8"/> (waiting calls cost nothing; more slots recover faster after an outage)</remarks>
        public int MaxConcurrentRequests { get; set; } = 8;

        /// <summary>
        /// At start-up, ask Firehose about the delivery stream (DescribeDeliveryStream) in the background and warn in the
        /// InternalLogger when it is missing, not ACTIVE, or not a DirectPut stream (which PutRecordBatch cannot write to).
        /// Never delays logging; needs <c>firehose:DescribeDeliveryStream</c> in the IAM policy. Only for a fixed stream name.
        /// </summary>
        /// <remarks>Default: <see langword="false"/></remarks>
        public bool CheckStreamAtStartup { get; set; }

        /// <summary>How long one HTTP attempt may take before it is abandoned and retried.</summary>
        /// <remarks>Default: <see langword="30"/> s</remarks>
        public int RequestTimeoutSeconds { get; set; } = 30;

        /// <summary>
        /// Turns on the durable buffer: events are appended to segment files in this directory before they are sent and
        /// removed once Firehose accepted them, so events survive a crash (<c>kill -9</c>) or a close that could not
        /// deliver them, and are sent, oldest first, when the target next starts. Several processes may share the
        /// directory. If it cannot be written, the target keeps events in memory only and says so once in InternalLogger.
        /// Rendered once at start-up (e.g. <c>${basedir}/firehose-buffer</c>).
        /// </summary>
        /// <remarks>Default: none (memory only)</remarks>
        public Layout? BufferDirectory { get; set; }

        /// <summary>
        /// Seconds between forcing the durable buffer to disk. Events handed to the target at least this long before a
        /// crash survive it. 0 forces it after every hand-over (safest, slowest).
        /// </summary>
        /// <remarks>Default: <see langword="1"/> s</remarks>
        public double BufferFlushInterval { get; set; } = 1;

        /// <summary>
        /// The bound of the durable buffer's files, in bytes. Past it the oldest segment files are deleted; their events are
        /// still sent from memory but no longer survive a crash, and they are counted and reported.
        /// </summary>
        /// <remarks>Default: <see langword="268435456"/> (256 MiB)</remarks>
        public long MaxBufferBytes { get; set; } = 256L * 1024 * 1024;

        /// <summary>Test seams: the client, the clock of backoffs, the environment, internal sizes and periods.</summary>
        internal TargetSeams Seams { get; } = new TargetSeams();

        /// <summary>This target's scheduler of NLog's hand-overs (the running parts look after each of NLog's continuations).</summary>
        internal HandOverScheduler HandOvers { get; } = new HandOverScheduler();

        /// <summary>The target's counts, across reconfigurations (the meter and the InternalLogger lines read the same).</summary>
        internal TargetStatistics Statistics { get; } = new TargetStatistics();

        /// <summary>The running parts; null before initialization and after close.</summary>
        internal TargetParts? Parts => Volatile.Read(ref _parts);



        /// <summary>The endpoint in use, once initialized.</summary>
        internal Internal.Aws.FirehoseEndpoint? Endpoint { get; private set; }

        /// <summary>Records held by the buffer (waiting or in flight), and their cost in bytes.</summary>
        internal (int Records, long Bytes) BufferSize => Parts?.Buffer.Size ?? (0, 0);

        /// <summary>The most bytes the buffer held since it was created.</summary>
        internal long BufferPeakBytes => Parts?.Buffer.PeakBytes ?? 0;

        /// <summary>Every stream's learned rate (what the meter's gauge reports); none while not running.</summary>
        internal IEnumerable<KeyValuePair<string, (double Records, double Bytes)>> LearnedRates =>
            Parts?.Pipeline.LearnedRates ?? System.Array.Empty<KeyValuePair<string, (double Records, double Bytes)>>();

        /// <summary>Whether the durable buffer is writing (false when memory only, or after the directory failed).</summary>
        internal bool IsBufferingToDisk => Parts?.IsBufferingToDisk ?? false;

        /// <summary>The start-up check of the stream (<see cref="CheckStreamAtStartup"/>), running or done; null when none started.</summary>
        internal Task? StreamCheck => Parts?.StreamCheck;

        /// <inheritdoc/>
        protected override void InitializeTarget()
        {
            OptionsValidator.Validate(this);
            base.InitializeTarget();
            var parts = TargetParts.Start(this, Seams, Statistics);
            Volatile.Write(ref _parts, parts);
            Endpoint = parts.Endpoint;
        }

        /// <inheritdoc/>
        protected override Task WriteAsyncTask(LogEventInfo logEvent, CancellationToken cancellationToken)
        {
            return WriteAsyncTask(new[] { logEvent }, cancellationToken);
        }

        /// <inheritdoc/>
        protected override Task WriteAsyncTask(IList<LogEventInfo> logEvents, CancellationToken cancellationToken)
        {
            // NLog calls this holding the target's SyncRoot, which a logging thread may wait on (up to 50 ms) when it finds
            // the queue empty: so the work runs in a task of its own, which NLog starts, and the lock is let go at once.
            return HandOverScheduler.NewHandOver(HandOver, logEvents);
        }

        /// <summary>NLog's hand-overs run on the thread pool; NLog's continuation of each runs where the hand-over ended.</summary>
        protected override TaskScheduler TaskScheduler => HandOvers;

        /// <inheritdoc/>
        protected override void FlushAsync(AsyncContinuation asyncContinuation)
        {
            // First NLog hands over what it queued, then wait until the buffer has nothing deliverable left.
            var pipeline = Parts?.Pipeline;
            base.FlushAsync(exception =>
            {
                if (exception != null || pipeline is null)
                {
                    asyncContinuation(exception);
                    return;
                }
                pipeline.WhenIdleAsync().ContinueWith(_ => asyncContinuation(null), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            });
        }

        /// <inheritdoc/>
        protected override void CloseTarget()
        {
            var parts = Parts;
            parts?.TakeWhatNLogStillHolds(); // NLog's CloseTarget clears its queue: on process exit without Shutdown() that is the newest events
            base.CloseTarget();
            Volatile.Write(ref _parts, null);
            // Shutdown() flushed already; on Linux process exit NLog closes without flushing. Either way the parts deliver
            // what can be delivered within a bounded wait, then report what could not.
            parts?.Close();
        }

        private void HandOver(object? state)
        {
            var parts = Parts;
            if (parts != null)
                parts.Intake.HandOver((IList<LogEventInfo>)state!);
        }

        private static JsonLayout CreateDefaultLayout()
        {
            var layout = new JsonLayout { IncludeEventProperties = true, IncludeScopeProperties = true };
            layout.Attributes.Add(new JsonAttribute("time", "${date:universalTime=true:format=o}"));
            layout.Attributes.Add(new JsonAttribute("level", "${level:upperCase=true}"));
            layout.Attributes.Add(new JsonAttribute("logger", "${logger}"));
            layout.Attributes.Add(new JsonAttribute("message", "${message}"));
            layout.Attributes.Add(new JsonAttribute("exception", "${exception:format=toString}"));
            return layout;
        }
    }
}
