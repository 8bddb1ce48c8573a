using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using NLog.Common;
using NLog.Config;
using NLog.Layouts;
using NLog.Targets.Firehose.Internal;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Delivery;
using NLog.Targets.Firehose.Internal.Diagnostics;
using NLog.Targets.Firehose.Internal.Durability;
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
        /// <summary>
        /// Events NLog hands over per write (NLog's BatchSize while the target runs; <c>batchSize</c> is the records per call).
        /// </summary>
        internal int HandOverBatch { get; set; } = 1_000;

        /// <summary>
        /// The most events NLog's own hand-over queue holds while the target runs (<c>queueLimit</c> bounds the target's buffer):
        /// two hand-overs. Measured in a 1,000,000-event outage: 20,000 waiting events (with their LogEventInfo, properties
        /// and precalculated text) cost about 50 MB of peak working set, 2,000 a few MB.
        /// </summary>
        internal int HandOverQueueLimit { get; set; } = 2_000;

        private int _userQueueLimit;

        private IFirehoseClient? _client;
        private const string DefaultRoleSessionName = "NLog.Targets.Firehose";
        private RecordEncoder? _encoder;
        private RecordSlab? _slab;
        private CancellationTokenSource? _streamCheck;
        private NLogQueueWatch? _queueWatch;
        private TerminationHook? _terminationHook;
        private long _nlogQueueDrops;
        private FirehoseEndpoint? _endpoint;
        private MemoryRecordBuffer? _buffer;
        private DeliveryPipeline? _loop;
        private DiskJournal? _journal;
        private FirehoseMetrics? _metrics;
        private int _recordsPerCall = FirehoseLimits.MaxRecordsPerCall;
        private long _sequence;
        private long _handedOver;
        private long _takeOversBegun;
        private int _takingOver;
        private long _handOverRestarts;
        private long _deliveredBefore;
        private long _rejectedBefore;
        private long _billedUnitsBefore;
        private long _queueDroppedBefore;
        private long _undeliveredAtClose;
        private long _keptOnDiskAtClose;
        private long _truncatedEvents;
        private long _repairedEvents;
        private long _droppedEvents;

        /// <summary>Creates the target with defaults tuned for Firehose.</summary>
        public FirehoseTarget()
        {
            Layout = CreateDefaultLayout();
            // Records per PutRecordBatch call: 500 is the service's per-call maximum.
            BatchSize = FirehoseLimits.MaxRecordsPerCall;
            // Take events out of NLog's queue within 10 ms: long waits there let events survive into older GC generations
            // (measured: 30-40 gen-2 collections per million events at 200 ms, 6 at 1 ms; at 10 ms as few as at 1 ms), and
            // shorter ones make more, smaller hand-overs (at 1 ms, 2,200 hand-overs for a 500,000-event burst logged with the
            // default layout and 8% more CPU than at 10 ms, which halves them). Calls fill up in the target's own buffer
            // (lingerMilliseconds). Below NLog's 50 ms, where it starts holding back partial batches.
            TaskDelayMilliseconds = 10;
            // The target's own buffer holds up to this many events (and maxQueueBytes): a burst of 200,000 fits. NLog's own
            // hand-over queue in front of it is kept much smaller while the target runs (HandOverQueueLimit), so that memory
            // stays within maxQueueBytes and what waits there is not lost at exit.
            QueueLimit = 200_000;
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
        /// The bound, in bytes, of the events the target holds (waiting or in flight), next to <c>queueLimit</c> in events.
        /// At the bound the least important events are dropped first (Trace and Debug, then Info, then Warn and above),
        /// counted by level, and a summary event is sent once delivery resumes.
        /// </summary>
        /// <remarks>Default: <see langword="67108864"/> (64 MiB)</remarks>
        public long MaxQueueBytes { get; set; } = 64L * 1024 * 1024;

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

        /// <summary>Test seam: creates the Firehose client instead of the HTTP one.</summary>
        internal Func<FirehoseEndpoint, IFirehoseClient>? ClientFactory { get; set; }

        /// <summary>Test seam: waits between retries.</summary>
        internal Func<TimeSpan, CancellationToken, Task> Delay { get; set; } = (delay, token) => Task.Delay(delay, token);

        /// <summary>Test seam: reads environment variables.</summary>
        internal Func<string, string?> GetEnvironmentVariable { get; set; } = Environment.GetEnvironmentVariable;

        /// <summary>Test seam: the AWS SDK's fallback region chain.</summary>
        internal Func<string?> SdkFallbackRegion { get; set; } = () => Amazon.Runtime.FallbackRegionFactory.GetRegionEndpoint()?.SystemName;

        /// <summary>Test seam: how long closing keeps delivering what the buffer holds.</summary>
        internal TimeSpan CloseDrain { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>Test seam: the first pause of a stream after a persistent error.</summary>
        internal TimeSpan PauseBase { get; set; } = TimeSpan.FromSeconds(1);

        /// <summary>
        /// Events the buffer holds: the configured <c>queueLimit</c>, once initialized (while the target runs, NLog's
        /// <c>QueueLimit</c> reads its small hand-over queue's limit).
        /// </summary>
        internal int BufferEventLimit => _userQueueLimit > 0 ? _userQueueLimit : QueueLimit;

        /// <summary>Records per PutRecordBatch call: the configured <c>batchSize</c>, once initialized.</summary>
        internal int RecordsPerCall => _recordsPerCall;

        /// <summary>The endpoint in use, once initialized.</summary>
        internal FirehoseEndpoint? Endpoint => _endpoint;

        /// <summary>Events Firehose accepted.</summary>
        internal long DeliveredEvents => Interlocked.Read(ref _deliveredBefore) + (_loop?.Delivered ?? 0);

        /// <summary>Billed 5 KB units of the records accepted.</summary>
        internal long BilledUnits => Interlocked.Read(ref _billedUnitsBefore) + (_loop?.BilledUnits ?? 0);

        /// <summary>Events Firehose refused for good (a per-record error retrying cannot cure).</summary>
        internal long RejectedEvents => Interlocked.Read(ref _rejectedBefore) + (_loop?.Rejected ?? 0);

        /// <summary>Events the buffer dropped to stay within its bounds.</summary>
        internal long QueueDroppedEvents => Interlocked.Read(ref _queueDroppedBefore) + Sum(_buffer?.TotalDroppedByLevel);

        /// <summary>Events still undelivered when the target closed.</summary>
        internal long UndeliveredAtClose => Interlocked.Read(ref _undeliveredAtClose);

        /// <summary>Events left in the durable buffer when the target closed, to be sent at the next start.</summary>
        internal long KeptOnDiskAtClose => Interlocked.Read(ref _keptOnDiskAtClose);

        /// <summary>Whether the durable buffer is writing (false when memory only, or after the directory failed).</summary>
        internal bool IsBufferingToDisk => _journal?.IsWriting ?? false;

        /// <summary>Events sent with lone surrogates replaced by U+FFFD.</summary>
        internal long RepairedEvents => Interlocked.Read(ref _repairedEvents);

        /// <summary>Oversized events sent truncated.</summary>
        internal long TruncatedEvents => Interlocked.Read(ref _truncatedEvents);

        /// <summary>Events left out before buffering: oversized with <c>Drop</c>, not renderable, or an invalid stream name.</summary>
        internal long DroppedEvents => Interlocked.Read(ref _droppedEvents);

        /// <summary>Events NLog has handed to the target.</summary>
        internal long HandedOverEvents => Interlocked.Read(ref _handedOver);

        internal long HandOvers => Interlocked.Read(ref _takeOversBegun);

        /// <summary>Records held by the buffer (waiting or in flight), and their cost in bytes.</summary>
        internal (int Records, long Bytes) BufferSize => _buffer?.Size ?? (0, 0);

        /// <summary>The most bytes the buffer held since it was created.</summary>
        internal long BufferPeakBytes => _buffer?.PeakBytes ?? 0;

        /// <inheritdoc/>
        protected override void InitializeTarget()
        {
            ValidateOptions();
            base.InitializeTarget();

            var nullEvent = LogEventInfo.CreateNullEvent();
            string? profile = Render(Profile, nullEvent);
            string? profilesLocation = Render(ProfilesLocation, nullEvent);
            AWSCredentials? profileCredentials = null;
            string? profileRegion = null;
            if (profile != null || profilesLocation != null)
                (profileCredentials, profileRegion) = LoadProfile(profile ?? GetEnvironmentVariable("AWS_PROFILE") ?? "default", profilesLocation);
            string credentialSource = profileCredentials != null ? "profile '" + (profile ?? "default") + "'" : "the AWS SDK's default chain";
            string? roleArn = Render(RoleArn, nullEvent);
            string? externalId = Render(ExternalId, nullEvent);
            string? roleSessionName = Render(RoleSessionName, nullEvent);
            ValidateRole(roleArn, externalId, roleSessionName);
            if (roleArn != null)
            {
                string sessionName = roleSessionName ?? DefaultRoleSessionName;
                profileCredentials = new AssumeRoleAWSCredentials(profileCredentials ?? new DefaultChainCredentials(), roleArn, sessionName,
                    new AssumeRoleAWSCredentialsOptions { ExternalId = externalId });
                credentialSource = $"role {roleArn} (session '{sessionName}'), assumed with {credentialSource}";
            }

            _endpoint = FirehoseEndpoint.Resolve(Render(ServiceUrl, nullEvent), Render(Region, nullEvent), profileRegion, UseFipsEndpoint, GetEnvironmentVariable, SdkFallbackRegion);
            string? authenticationRegion = Render(AuthenticationRegion, nullEvent);
            if (authenticationRegion != null)
                _endpoint = new FirehoseEndpoint(_endpoint.ServiceUri, authenticationRegion, _endpoint.IsConfigured);
            if (_endpoint.IsConfigured && _endpoint.ServiceUri.Scheme == Uri.UriSchemeHttp && !_endpoint.ServiceUri.IsLoopback)
                InternalLogger.Warn("{0}: serviceUrl {1} is plain http to a host that is not loopback: log events and signatures travel unencrypted", this, _endpoint.ServiceUri);

            _encoder = new RecordEncoder(AppendNewLine, OversizeRecordAction);
            _client = ClientFactory != null
                ? ClientFactory(_endpoint)
                : new FirehoseHttpClient(_endpoint, profileCredentials, TimeSpan.FromSeconds(RequestTimeoutSeconds), ToString(), null,
                    CreateProxy(Render(ProxyUrl, nullEvent), Render(ProxyBypass, nullEvent)));
            _recordsPerCall = BatchSize;
            var random = new Random();
            _buffer = new MemoryRecordBuffer(MaxQueueBytes, QueueLimit, () => DateTime.UtcNow);
            var buffer = _buffer;
            _metrics = FirehoseMetrics.Start(Name ?? "KinesisFirehose", () => buffer.Size.Records);
            var metrics = _metrics;
            buffer.DropsCounted = metrics.Dropped;
            _journal = OpenDurableBuffer(Render(BufferDirectory, nullEvent), _buffer);
            var settings = new PipelineSettings
            {
                RecordsPerCall = _recordsPerCall,
                Workers = MaxConcurrentRequests,
                BackoffBase = TimeSpan.FromMilliseconds(RetryBackoffMilliseconds),
                BackoffMax = TimeSpan.FromMilliseconds(RetryBackoffMaxMilliseconds),
                RetryTimeLimit = TimeSpan.FromSeconds(RetryTimeLimitSeconds),
                PauseBase = PauseBase,
                PauseMax = TimeSpan.FromSeconds(MaxPauseSeconds),
                Where = "region " + _endpoint.SigningRegion,
                PackedRecordBytes = RecordPacking ? PackedRecordBytes : 0,
                Metrics = _metrics,
                Linger = TimeSpan.FromMilliseconds(LingerMilliseconds),
            };
            _loop = new DeliveryPipeline(_client, _buffer, settings, () => DateTime.UtcNow, Delay, () => { lock (random) return random.NextDouble(); }, BuildDropSummary, this);
            _loop.Start();
            _queueWatch = NLogQueueWatch.Start(this, OnNLogQueueDropped, () => Volatile.Read(ref _takingOver) > 0 ? (long?)null : Interlocked.Read(ref _takeOversBegun),
                OnHandOverRestarted, StallCheckPeriod);
            _terminationHook = TerminationHook.Register(DeliverBeforeTermination, this);
            if (CheckStreamAtStartup)
                StartStreamCheck(_client);

            // batchSize is the records of one call and queueLimit the buffer's bound; NLog's queue and hand-overs get their own
            // sizes. Set last, once nothing can fail; CloseTarget puts them back, so a reconfiguration starts from the user's values.
            _userQueueLimit = QueueLimit;
            QueueLimit = Math.Min(QueueLimit, Math.Max(HandOverQueueLimit, _recordsPerCall));
            BatchSize = Math.Max(_recordsPerCall, Math.Min(HandOverBatch, QueueLimit));

            InternalLogger.Info("{0}: sending to {1} (signing region {2}, credentials from {3})", this, _endpoint.ServiceUri, _endpoint.SigningRegion, credentialSource);
        }

        private System.Net.IWebProxy? CreateProxy(string? proxyUrl, string? bypass)
        {
            if (proxyUrl is null)
                return null;
            if (!Uri.TryCreate(proxyUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                throw new NLogConfigurationException($"{this}: proxyUrl must be an absolute http:// or https:// URL.");
            var proxy = new System.Net.WebProxy(new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty }.Uri);
            if (!string.IsNullOrEmpty(uri.UserInfo))
            {
                string[] parts = uri.UserInfo.Split(new[] { ':' }, 2);
                proxy.Credentials = new System.Net.NetworkCredential(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty);
            }
            if (bypass != null)
            {
                var patterns = new List<string>();
                foreach (string host in bypass.Split(new[] { ',', ';' }, StringSplitOptions.RemoveEmptyEntries))
                    patterns.Add("^(https?://)?" + System.Text.RegularExpressions.Regex.Escape(host.Trim()).Replace("\\*", ".*") + "(:[0-9]+)?/?$"); // .NET matches these against scheme://host:port
                proxy.BypassList = patterns.ToArray();
            }
            InternalLogger.Info("{0}: calls go through the proxy {1}", this, proxy.Address);
            return proxy;
        }

        private DiskJournal? OpenDurableBuffer(string? directory, MemoryRecordBuffer buffer)
        {
            if (directory is null)
                return null;
            string fullPath;
            try
            {
                fullPath = System.IO.Path.GetFullPath(directory);
            }
            catch (Exception ex) when (ex is ArgumentException || ex is NotSupportedException || ex is System.IO.IOException || ex is System.Security.SecurityException)
            {
                InternalLogger.Warn(ex, "{0}: bufferDirectory '{1}' is not a usable path; keeping events in memory only (they will not survive a crash)", this, directory);
                return null;
            }
            var journal = new DiskJournal(fullPath, TimeSpan.FromSeconds(BufferFlushInterval), MaxBufferBytes, this);
            if (!journal.Open())
                return null;
            buffer.Released = journal.Acknowledge;
            var recovered = journal.Recover();
            foreach (var record in recovered)
            {
                record.Sequence = Interlocked.Increment(ref _sequence);
                buffer.Add(record);
            }
            InternalLogger.Info("{0}: durable buffer in {1} (forced to disk every {2} s, at most {3} bytes); {4} events recovered from earlier runs",
                this, fullPath, BufferFlushInterval, MaxBufferBytes, recovered.Count);
            return journal;
        }

        private void ValidateOptions()
        {
            if (DeliveryStreamName is null || (DeliveryStreamName is SimpleLayout fixedName && fixedName.IsFixedText && string.IsNullOrWhiteSpace(fixedName.FixedText)))
                throw new NLogConfigurationException($"{this}: deliveryStreamName is required.");
            if (DeliveryStreamName is SimpleLayout name && name.IsFixedText && !FirehoseLimits.IsValidStreamName(name.FixedText))
                throw new NLogConfigurationException($"{this}: deliveryStreamName '{name.FixedText}' is not a valid delivery stream name (1-64 characters of a-z, A-Z, 0-9, '_', '.', '-').");
            if (Layout is null)
                throw new NLogConfigurationException($"{this}: layout is required.");
            if (BatchSize > FirehoseLimits.MaxRecordsPerCall)
                throw new NLogConfigurationException($"{this}: batchSize {BatchSize} is larger than {FirehoseLimits.MaxRecordsPerCall}, the most records one PutRecordBatch call takes.");
            if (MaxConcurrentRequests < 1 || MaxConcurrentRequests > 64)
                throw new NLogConfigurationException($"{this}: maxConcurrentRequests must be between 1 and 64; got {MaxConcurrentRequests}.");
            if (RetryBackoffMilliseconds < 1)
                throw new NLogConfigurationException($"{this}: retryBackoffMilliseconds must be at least 1; got {RetryBackoffMilliseconds}.");
            if (RetryBackoffMaxMilliseconds < RetryBackoffMilliseconds)
                throw new NLogConfigurationException($"{this}: retryBackoffMaxMilliseconds ({RetryBackoffMaxMilliseconds}) must not be less than retryBackoffMilliseconds ({RetryBackoffMilliseconds}).");
            if (RetryTimeLimitSeconds < 0)
                throw new NLogConfigurationException($"{this}: retryTimeLimitSeconds must not be negative; got {RetryTimeLimitSeconds}.");
            if (RequestTimeoutSeconds < 1)
                throw new NLogConfigurationException($"{this}: requestTimeoutSeconds must be at least 1; got {RequestTimeoutSeconds}.");
            if (MaxQueueBytes < 1024 * 1024)
                throw new NLogConfigurationException($"{this}: maxQueueBytes must be at least 1048576 (1 MiB); got {MaxQueueBytes}.");
            if (RecordPacking && (PackedRecordBytes < 5120 || PackedRecordBytes > FirehoseLimits.MaxRecordBytes))
                throw new NLogConfigurationException($"{this}: packedRecordBytes must be between 5120 and {FirehoseLimits.MaxRecordBytes}; got {PackedRecordBytes}.");
            if (RecordPacking && !AppendNewLine)
                throw new NLogConfigurationException($"{this}: recordPacking needs appendNewLine=\"true\": the events of a packed record are separated by their line breaks.");
            if (double.IsNaN(BufferFlushInterval) || BufferFlushInterval < 0 || BufferFlushInterval > 60)
                throw new NLogConfigurationException($"{this}: bufferFlushInterval is in seconds and must be between 0 and 60; got {BufferFlushInterval}.");
            if (MaxBufferBytes < 16L * 1024 * 1024)
                throw new NLogConfigurationException($"{this}: maxBufferBytes must be at least 16777216 (16 MiB); got {MaxBufferBytes}.");
            if (LingerMilliseconds < 0 || LingerMilliseconds > 60_000)
                throw new NLogConfigurationException($"{this}: lingerMilliseconds must be between 0 and 60000; got {LingerMilliseconds}.");
            if (MaxPauseSeconds < 1)
                throw new NLogConfigurationException($"{this}: maxPauseSeconds must be at least 1; got {MaxPauseSeconds}.");
        }

        /// <summary>
        /// NLog's own hand-over queue was full (more than <c>queueLimit</c> events waiting for the target) and dropped its
        /// oldest event: counted like the buffer's drops (metrics, the summary event), and reported at once.
        /// </summary>
        private void OnNLogQueueDropped(LogEventInfo? dropped)
        {
            long count = Interlocked.Increment(ref _nlogQueueDrops);
            _buffer?.CountDroppedOutside((dropped?.Level ?? LogLevel.Info).Ordinal);
            if (count == 1 || count % 10_000 == 0)
                InternalLogger.Warn("{0}: NLog's hand-over queue is full ({1} events) and overflowAction is Discard: it drops its oldest events before they reach the target ({2} so far); they are counted in the drop summary", this, QueueLimit, count);
        }

        /// <summary>PutRecordBatch calls made by the current pipeline (diagnostics).</summary>
        internal long Calls => _loop?.Calls ?? 0;

        /// <summary>Events NLog's hand-over queue dropped (it was full).</summary>
        internal long NLogQueueDroppedEvents => Interlocked.Read(ref _nlogQueueDrops);

        /// <summary>The start-up check of the stream, running or done (<see cref="CheckStreamAtStartup"/>); null when none started.</summary>
        internal Task? StreamCheck { get; private set; }

        /// <summary>How often NLog's hand-over had stopped with events waiting and the target restarted it (NLog issue #4890).</summary>
        internal long HandOverRestarts => Interlocked.Read(ref _handOverRestarts);

        /// <summary>Test seam: how often the target looks for a stopped hand-over (events waiting at two looks in a row, none taken).</summary>
        internal TimeSpan StallCheckPeriod { get; set; } = TimeSpan.FromMilliseconds(100);

        /// <summary>Test seam: runs at the start of every hand-over, on NLog's writer task (a test can hold it there).</summary>
        internal Action? BeforeTakeOver { get; set; }

        /// <summary>The optional start-up check (<see cref="CheckStreamAtStartup"/>): in the background, findings to the InternalLogger.</summary>
        private void StartStreamCheck(IFirehoseClient client)
        {
            if (!(DeliveryStreamName is SimpleLayout name && name.IsFixedText))
            {
                InternalLogger.Info("{0}: checkStreamAtStartup checks a fixed deliveryStreamName only; '{1}' is rendered per event", this, DeliveryStreamName);
                return;
            }
            string stream = name.FixedText ?? string.Empty;
            string where = _endpoint?.SigningRegion ?? "?";
            var cancel = new CancellationTokenSource();
            Interlocked.Exchange(ref _streamCheck, cancel)?.Cancel();
            var token = cancel.Token;
            StreamCheck = Task.Run(async () =>
            {
                try
                {
                    var description = await client.DescribeDeliveryStreamAsync(stream, token).ConfigureAwait(false);
                    if (!string.Equals(description.Status, "ACTIVE", StringComparison.Ordinal))
                        InternalLogger.Warn("{0}: delivery stream '{1}' ({2}) is {3}, not ACTIVE: calls fail until it is; events are kept meanwhile", this, stream, where, description.Status ?? "of unknown status");
                    if (!string.Equals(description.Type, "DirectPut", StringComparison.Ordinal))
                        InternalLogger.Warn("{0}: delivery stream '{1}' ({2}) has source {3}, not DirectPut: Firehose refuses PutRecordBatch for it", this, stream, where, description.Type ?? "unknown");
                    if (description.Status == "ACTIVE" && description.Type == "DirectPut")
                        InternalLogger.Info("{0}: delivery stream '{1}' ({2}) is ACTIVE and DirectPut", this, stream, where);
                }
                catch (FirehoseServiceException ex) when (ex.ErrorCode == "ResourceNotFoundException")
                {
                    InternalLogger.Warn("{0}: delivery stream '{1}' does not exist in {2}: events are kept and sent once it does (check deliveryStreamName and region)", this, stream, where);
                }
                catch (Exception ex) when (!token.IsCancellationRequested && !(ex is OutOfMemoryException))
                {
                    string code = ex is FirehoseServiceException service ? service.ErrorCode ?? "HTTP " + service.StatusCode : ex.GetType().Name;
                    InternalLogger.Warn("{0}: could not check delivery stream '{1}' ({2}) at start-up: {3}: {4} (the check needs firehose:DescribeDeliveryStream; logging goes on)", this, stream, where, code, ex.Message);
                }
                catch (Exception) when (token.IsCancellationRequested)
                {
                    // closed meanwhile
                }
                finally
                {
                    // Not disposed: CloseTarget may still cancel it (a source without a timer holds nothing to release).
                    Interlocked.CompareExchange(ref _streamCheck, null, cancel);
                }
            });
        }

        private void ValidateRole(string? roleArn, string? externalId, string? roleSessionName)
        {
            if (roleArn is null)
            {
                if (externalId != null || roleSessionName != null)
                    throw new NLogConfigurationException($"{this}: externalId and roleSessionName need roleArn (the role to assume).");
                return;
            }
            if (!roleArn.StartsWith("arn:", StringComparison.Ordinal) || roleArn.IndexOf(":role/", StringComparison.Ordinal) < 0)
                throw new NLogConfigurationException($"{this}: roleArn '{roleArn}' is not the ARN of an IAM role (arn:aws:iam::123456789012:role/name).");
            if (roleSessionName != null && !IsValidSessionName(roleSessionName))
                throw new NLogConfigurationException($"{this}: roleSessionName '{roleSessionName}' must be 2-64 characters of a-z, A-Z, 0-9 and =,.@_-");
        }

        private static bool IsValidSessionName(string name)
        {
            if (name.Length < 2 || name.Length > 64)
                return false;
            foreach (char c in name)
            {
                if (!(c < 128 && (char.IsLetterOrDigit(c) || "+=,.@_-".IndexOf(c) >= 0)))
                    return false;
            }
            return true;
        }

        private (AWSCredentials Credentials, string? Region) LoadProfile(string profile, string? profilesLocation)
        {
            var chain = new CredentialProfileStoreChain(profilesLocation);
            if (!chain.TryGetProfile(profile, out var found))
                throw new NLogConfigurationException($"{this}: profile '{profile}' was not found in {profilesLocation ?? "the default AWS config and credentials files"}.");
            if (!chain.TryGetAWSCredentials(profile, out var credentials))
                throw new NLogConfigurationException($"{this}: profile '{profile}' has no usable credentials.");
            return (credentials, found.Region?.SystemName);
        }

        /// <inheritdoc/>
        protected override void FlushAsync(AsyncContinuation asyncContinuation)
        {
            // First NLog hands over what it queued, then wait until the buffer has nothing deliverable left.
            var loop = _loop;
            base.FlushAsync(exception =>
            {
                if (exception != null || loop is null)
                {
                    asyncContinuation(exception);
                    return;
                }
                loop.WhenIdleAsync().ContinueWith(_ => asyncContinuation(null), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            });
        }

        /// <inheritdoc/>
        protected override void CloseTarget()
        {
            TakeWhatNLogStillHolds(); // NLog's CloseTarget clears its queue: on process exit without Shutdown() that is the newest events
            base.CloseTarget();

            // Shutdown() flushed already; on Linux process exit NLog closes without flushing. Either way deliver what can
            // be delivered within a bounded wait, then report what could not.
            Interlocked.Exchange(ref _streamCheck, null)?.Cancel();
            Interlocked.Exchange(ref _queueWatch, null)?.Dispose();
            Interlocked.Exchange(ref _terminationHook, null)?.Dispose();
            var loop = _loop;
            var buffer = _buffer;
            loop?.Stop(CloseDrain);
            var journal = _journal;
            _journal = null;
            if (buffer != null)
            {
                var lost = buffer.DropAllQueued();
                long total = Sum(lost);
                long kept = journal?.Close() ?? 0;
                if (kept > 0)
                {
                    Interlocked.Add(ref _keptOnDiskAtClose, kept);
                    InternalLogger.Warn("{0}: closing with {1} events not delivered yet; they stay in the durable buffer and are sent when the target next starts", this, kept);
                    total = Math.Max(0, total - kept);
                    Array.Clear(lost, 0, lost.Length);
                }
                if (total > 0)
                {
                    Interlocked.Add(ref _undeliveredAtClose, total);
                    InternalLogger.Error("{0}: closing with {1} events not delivered (Trace {2}, Debug {3}, Info {4}, Warn {5}, Error {6}, Fatal {7}); they are lost",
                        this, total, lost[0], lost[1], lost[2], lost[3], lost[4], lost[5]);
                }
                Interlocked.Add(ref _queueDroppedBefore, Sum(buffer.TotalDroppedByLevel));
            }
            if (loop != null)
            {
                Interlocked.Add(ref _deliveredBefore, loop.Delivered);
                Interlocked.Add(ref _rejectedBefore, loop.Rejected);
                Interlocked.Add(ref _billedUnitsBefore, loop.BilledUnits);
            }

            _metrics?.Stop();
            _metrics = null;
            _loop = null;
            _buffer = null;
            BatchSize = _recordsPerCall;
            if (_userQueueLimit > 0)
                QueueLimit = _userQueueLimit;
            _client?.Dispose();
            _client = null;
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
            return new Task(TakeOver, logEvents);
        }

        private void TakeOver(object? state)
        {
            Interlocked.Increment(ref _takeOversBegun);
            Interlocked.Increment(ref _takingOver);
            Exception? failure;
            try
            {
                BeforeTakeOver?.Invoke();
                failure = Accept((IList<LogEventInfo>)state!);
            }
            finally
            {
                Interlocked.Decrement(ref _takingOver);
                HandOverScheduler.HandOverEnds(); // NLog's continuation (the next batch) runs on this thread
            }
            if (failure != null)
                throw failure;
        }

        /// <summary>NLog's hand-overs run on the thread pool; NLog's continuation of each runs where the hand-over ended.</summary>
        protected override TaskScheduler TaskScheduler => HandOverScheduler.Instance;

        /// <summary>NLog's writer had stopped with events waiting, and the queue watch restarted it.</summary>
        private void OnHandOverRestarted()
        {
            if (Interlocked.Increment(ref _handOverRestarts) == 1)
                InternalLogger.Warn("{0}: NLog's hand-over had stopped: events waited in its queue for {1} ms with no writer running (NLog issue #4890, a lost wake-up of AsyncTaskTarget's writer, or a writer starved of threads); the target restarted it, and will whenever it stops again (counted, not logged again)", this, (long)(2 * StallCheckPeriod.TotalMilliseconds));
        }

        /// <summary>
        /// SIGTERM without a host that handles it: the process ends right after this returns, without closing NLog. Take what
        /// NLog's queue holds, deliver the buffer for at most the close drain, force the durable buffer to disk, report what
        /// is left.
        /// </summary>
        private void DeliverBeforeTermination()
        {
            var buffer = _buffer;
            if (buffer is null)
                return;
            TakeWhatNLogStillHolds();
            _loop?.WhenIdleAsync().Wait(CloseDrain);
            _journal?.Flush();
            var (records, bytes) = buffer.Size;
            if (records > 0)
            {
                var held = buffer.QueuedByLevel(); // not removed: a host that handles SIGTERM itself may still deliver them when it closes NLog
                InternalLogger.Error("{0}: SIGTERM: {1} events ({2:0.0} MB; queued: Trace {3}, Debug {4}, Info {5}, Warn {6}, Error {7}, Fatal {8}) were not delivered within {9:0.#} s; {10}",
                    this, records, bytes / 1048576.0, held[0], held[1], held[2], held[3], held[4], held[5], CloseDrain.TotalSeconds,
                    _journal != null ? "they stay in the durable buffer for the next start" : "they are lost if the process ends now");
            }
        }

        /// <summary>
        /// At close, before NLog clears its hand-over queue: waits (within the close drain) for a hand-over that is running,
        /// then takes what the queue still holds into the buffer, so the drain delivers it or reports it by level.
        /// </summary>
        private void TakeWhatNLogStillHolds()
        {
            var watch = _queueWatch;
            if (watch is null || _buffer is null)
                return;
            SpinWait.SpinUntil(() => Volatile.Read(ref _takingOver) == 0, CloseDrain);
            var pending = watch.TakeAll();
            if (pending.Count == 0)
                return;
            var events = new LogEventInfo[pending.Count];
            for (int i = 0; i < events.Length; i++)
                events[i] = pending[i].LogEvent;
            var failure = Accept(events);
            foreach (var item in pending)
                item.Continuation(failure);
            InternalLogger.Debug("{0}: took {1} events that were still in NLog's hand-over queue at close", this, events.Length);
        }

        /// <summary>
        /// Renders the events and hands them to the target's own buffer at once: NLog's queue stays short, and the buffer
        /// decides what to keep when it is full; the delivery pipeline sends in the background. Returns the exception for
        /// NLog's failure path, if any (<see cref="PersistentErrorAction.Fail"/>).
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        private Exception? Accept(IList<LogEventInfo> logEvents)
        {
            var buffer = _buffer;
            var encoder = _encoder;
            var journal = _journal;
            var loop = _loop;
            if (buffer is null || encoder is null || loop is null)
                return null;
            bool failBroken = PersistentErrorAction == PersistentErrorAction.Fail;
            int failed = 0;
            var records = new List<BufferedRecord>(logEvents.Count);
            var slab = Interlocked.Exchange(ref _slab, null) ?? new RecordSlab(); // one hand-over at a time uses it
            string? brokenStream = null;
            string? brokenCode = null;

            int truncated = 0;
            int repaired = 0;
            int dropped = 0;
            int badNames = 0;
            string? badName = null;
            string? fixedStream = DeliveryStreamName is SimpleLayout { IsFixedText: true } fixedName ? fixedName.FixedText : null; // validated when initialized
            for (int i = 0; i < logEvents.Count; i++)
            {
                var logEvent = logEvents[i];
                string stream;
                ReadOnlyMemory<byte> data;
                bool kept;
                EncodeOutcome outcome;
                try
                {
                    stream = fixedStream ?? RenderLogEvent(DeliveryStreamName, logEvent);
                    if (fixedStream is null && !FirehoseLimits.IsValidStreamName(stream))
                    {
                        badName = stream;
                        badNames++;
                        continue;
                    }
                    if (failBroken && loop.IsBroken(stream, out string? code))
                    {
                        brokenStream = stream;
                        brokenCode = code;
                        failed++;
                        continue;
                    }
                    var text = slab.Text();
                    Layout.Render(logEvent, text); // NLog's precalculated text when the layout needs the logging thread
                    kept = encoder.TryEncode(text, logEvent, slab, out data, out outcome, out int replaced);
                    if (replaced > 0)
                        repaired++;
                }
                catch (Exception ex) when (!(ex is OutOfMemoryException))
                {
                    InternalLogger.Error(ex, "{0}: could not render a log event of logger '{1}'; it is left out", this, logEvent.LoggerName);
                    dropped++;
                    continue;
                }

                if (outcome == EncodeOutcome.Truncated)
                    truncated++;
                if (!kept)
                {
                    dropped++;
                    continue;
                }
                var record = new BufferedRecord(stream, data, (logEvent.Level ?? LogLevel.Info).Ordinal, Interlocked.Increment(ref _sequence), slab.TakeCommitted());
                journal?.Append(record);
                records.Add(record);
            }
            Volatile.Write(ref _slab, slab);
            int buffered = records.Count;
            if (buffered > 0)
            {
                buffer.AddRange(records); // one lock and one wake-up per hand-over
                loop.RecordsAdded();
            }
            if (journal != null && BufferFlushInterval <= 0)
                journal.Flush();

            Interlocked.Add(ref _handedOver, logEvents.Count);
            if (truncated > 0)
            {
                Interlocked.Add(ref _truncatedEvents, truncated);
                _metrics?.Truncated(truncated);
                InternalLogger.Warn("{0}: truncated {1} events larger than the {2}-byte record limit ({3} so far)", this, truncated, FirehoseLimits.MaxRecordBytes, TruncatedEvents);
            }
            if (repaired > 0)
            {
                Interlocked.Add(ref _repairedEvents, repaired);
                InternalLogger.Warn("{0}: {1} events held invalid UTF-16 (lone surrogates), sent with U+FFFD in their place ({2} so far)", this, repaired, RepairedEvents);
            }
            if (badNames > 0)
            {
                dropped += badNames;
                InternalLogger.Error("{0}: {1} events rendered the invalid delivery stream name '{2}' (1-64 characters of a-z, A-Z, 0-9, '_', '.', '-'); they are left out", this, badNames, badName);
            }
            if (failed > 0)
            {
                string message = $"{this}: delivery stream '{brokenStream}' ({_endpoint?.SigningRegion}) fails with {brokenCode}; {failed} events handed to NLog's failure path (persistentErrorAction=Fail)";
                if (buffered == 0)
                {
                    InternalLogger.Warn(message);
                    return new FirehoseDeliveryException(message, brokenCode);
                }
                // Other events of this hand-over were taken: failing the hand-over would send those to a fallback too.
                dropped += failed;
                InternalLogger.Error("{0}: delivery stream '{1}' fails with {2}; {3} of its events are left out (others in the same hand-over were taken)", this, brokenStream, brokenCode, failed);
            }
            if (dropped > 0)
            {
                Interlocked.Add(ref _droppedEvents, dropped);
                _metrics?.Dropped(dropped);
                InternalLogger.Warn("{0}: left out {1} events that were larger than the {2}-byte record limit, could not be rendered, named no valid stream or a failing one ({3} so far)", this, dropped, FirehoseLimits.MaxRecordBytes, DroppedEvents);
            }
            return null;
        }

        /// <summary>The event that tells, in the stream's own format, how many events the buffer had to drop.</summary>
        private BufferedRecord? BuildDropSummary(string stream, DropReport report)
        {
            var summary = new LogEventInfo(LogLevel.Warn, "NLog.Targets.Firehose",
                $"NLog.Targets.Firehose dropped {report.Total} log events between {report.FirstUtc:o} and {report.LastUtc:o} to stay within its queue bounds (Trace {report.ByLevel[0]}, Debug {report.ByLevel[1]}, Info {report.ByLevel[2]}, Warn {report.ByLevel[3]}, Error {report.ByLevel[4]}, Fatal {report.ByLevel[5]})");
            summary.Properties["droppedEvents"] = report.Total;
            string[] names = { "Trace", "Debug", "Info", "Warn", "Error", "Fatal" };
            for (int i = 0; i < names.Length; i++)
                summary.Properties["dropped" + names[i]] = report.ByLevel[i];
            summary.Properties["droppedFrom"] = report.FirstUtc;
            summary.Properties["droppedUntil"] = report.LastUtc;
            try
            {
                // Layout.Render, not RenderLogEvent: this runs on the delivery loop, beside NLog's writer thread.
                byte[]? data = _encoder?.Encode(Layout.Render(summary), summary, out _);
                return data is null ? null : new BufferedRecord(stream, data, LogLevel.Warn.Ordinal, Interlocked.Increment(ref _sequence));
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                InternalLogger.Warn(ex, "{0}: could not render the drop summary", this);
                return null;
            }
        }

        private static long Sum(long[]? values)
        {
            long sum = 0;
            if (values != null)
            {
                foreach (long value in values)
                    sum += value;
            }
            return sum;
        }

        private static string? Render(Layout? layout, LogEventInfo logEvent)
        {
            if (layout is null)
                return null;
            string value = layout.Render(logEvent);
            return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
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
