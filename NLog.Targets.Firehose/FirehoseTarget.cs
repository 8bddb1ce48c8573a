using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using NLog.Common;
using NLog.Config;
using NLog.Layouts;
using NLog.Targets.Firehose.Internal;
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
        private const int CloseDrainMilliseconds = 5000;

        /// <summary>
        /// One NLog write takes enough events for this many calls per concurrent slot, so the last, smaller calls of a
        /// write (and its retries) overlap with plenty of full ones.
        /// </summary>
        private const int WriteCallsPerSlot = 4;

        private IFirehoseClient? _client;
        private RecordSender? _sender;
        private RecordEncoder? _encoder;
        private FirehoseEndpoint? _endpoint;
        private Task? _inflight;
        private int _recordsPerCall = FirehoseLimits.MaxRecordsPerCall;
        private long _deliveredEvents;
        private long _failedEvents;
        private long _truncatedEvents;
        private long _droppedEvents;

        /// <summary>Creates the target with defaults tuned for Firehose.</summary>
        public FirehoseTarget()
        {
            Layout = CreateDefaultLayout();
            // One NLog batch is one PutRecordBatch call: 500 is the service's per-call maximum.
            BatchSize = FirehoseLimits.MaxRecordsPerCall;
            // Wait a little so batches fill up: fewer, fuller calls keep the per-stream request quota
            // (1,000–2,000 requests/s shared by every instance) free. Flush() sends at once.
            TaskDelayMilliseconds = 200;
            // Room for a burst of 200,000 events (400 full calls) while the first calls are on their way, or for a
            // backlog while Firehose throttles or is briefly unreachable.
            QueueLimit = 200_000;
            // Never block the application when the backlog is full: the oldest queued events are discarded.
            OverflowAction = AsyncTargetWrapperOverflowAction.Discard;
            // Retries happen inside the target, per record: NLog's own retry would resend records Firehose accepted.
            RetryCount = 0;
            // Longer than the retry time limit plus one request, so NLog never cancels a write that is still retrying.
            TaskTimeoutSeconds = 150;
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
        /// The endpoint URL, used as is (a VPC endpoint, a local stand-in, LocalStack or moto).
        /// </summary>
        /// <remarks>Default: <c>AWS_ENDPOINT_URL_FIREHOSE</c>, else <c>AWS_ENDPOINT_URL</c>, else <c>https://firehose.{region}.amazonaws.com</c> (partition-aware)</remarks>
        public Layout? ServiceUrl { get; set; }

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

        /// <summary>The first retry's backoff ceiling; each retry doubles it (with full jitter) up to <see cref="RetryBackoffMaxMilliseconds"/>.</summary>
        /// <remarks>Default: <see langword="100"/> ms</remarks>
        public int RetryBackoffMilliseconds { get; set; } = 100;

        /// <summary>The largest wait between two retries.</summary>
        /// <remarks>Default: <see langword="10000"/> ms</remarks>
        public int RetryBackoffMaxMilliseconds { get; set; } = 10_000;

        /// <summary>
        /// How long one batch may keep retrying before its undelivered events are given up to NLog's failure path
        /// (for example a <c>FallbackGroup</c>).
        /// </summary>
        /// <remarks>Default: <see langword="60"/> s</remarks>
        public int RetryTimeLimitSeconds { get; set; } = 60;

        /// <summary>
        /// How many PutRecordBatch calls may be in flight at once. When the queue holds more than one call's worth of
        /// events, one write takes up to <c>batchSize × maxConcurrentRequests × 4</c> events and keeps this many calls
        /// in flight, so retry waits and round trips overlap; records a call did not get accepted ride along in the next.
        /// </summary>
        /// <remarks>Default: <see langword="8"/> (waiting calls cost nothing; more slots recover faster after an outage)</remarks>
        public int MaxConcurrentRequests { get; set; } = 8;

        /// <summary>How long one HTTP attempt may take before it is abandoned and retried.</summary>
        /// <remarks>Default: <see langword="30"/> s</remarks>
        public int RequestTimeoutSeconds { get; set; } = 30;

        /// <summary>Test seam: creates the Firehose client instead of the HTTP one.</summary>
        internal Func<FirehoseEndpoint, IFirehoseClient>? ClientFactory { get; set; }

        /// <summary>Test seam: waits between retries.</summary>
        internal Func<TimeSpan, CancellationToken, Task> Delay { get; set; } = (delay, token) => Task.Delay(delay, token);

        /// <summary>Test seam: reads environment variables.</summary>
        internal Func<string, string?> GetEnvironmentVariable { get; set; } = Environment.GetEnvironmentVariable;

        /// <summary>Test seam: the AWS SDK's fallback region chain.</summary>
        internal Func<string?> SdkFallbackRegion { get; set; } = () => Amazon.Runtime.FallbackRegionFactory.GetRegionEndpoint()?.SystemName;

        /// <summary>Records per PutRecordBatch call: the configured <c>batchSize</c>, once initialized.</summary>
        internal int RecordsPerCall => _recordsPerCall;

        /// <summary>The endpoint in use, once initialized.</summary>
        internal FirehoseEndpoint? Endpoint => _endpoint;

        /// <summary>Events Firehose accepted.</summary>
        internal long DeliveredEvents => Interlocked.Read(ref _deliveredEvents);

        /// <summary>Events given up to NLog's failure path.</summary>
        internal long FailedEvents => Interlocked.Read(ref _failedEvents);

        /// <summary>Oversized events sent truncated.</summary>
        internal long TruncatedEvents => Interlocked.Read(ref _truncatedEvents);

        /// <summary>Oversized events left out.</summary>
        internal long DroppedEvents => Interlocked.Read(ref _droppedEvents);

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

            _endpoint = FirehoseEndpoint.Resolve(Render(ServiceUrl, nullEvent), Render(Region, nullEvent), profileRegion, UseFipsEndpoint, GetEnvironmentVariable, SdkFallbackRegion);
            if (_endpoint.IsConfigured && _endpoint.ServiceUri.Scheme == Uri.UriSchemeHttp && !_endpoint.ServiceUri.IsLoopback)
                InternalLogger.Warn("{0}: serviceUrl {1} is plain http to a host that is not loopback: log events and signatures travel unencrypted", this, _endpoint.ServiceUri);

            _encoder = new RecordEncoder(AppendNewLine, OversizeRecordAction);
            _client = ClientFactory != null
                ? ClientFactory(_endpoint)
                : new FirehoseHttpClient(_endpoint, profileCredentials, TimeSpan.FromSeconds(RequestTimeoutSeconds), ToString());
            // batchSize is the records of one call; one NLog write takes enough for maxConcurrentRequests calls. Set last,
            // once nothing can fail any more; CloseTarget puts it back, so a reconfiguration starts from the user's value.
            _recordsPerCall = BatchSize;
            BatchSize = Math.Min(_recordsPerCall * MaxConcurrentRequests * WriteCallsPerSlot, Math.Max(QueueLimit, _recordsPerCall));
            var random = new Random();
            var settings = new RetrySettings(TimeSpan.FromMilliseconds(RetryBackoffMilliseconds), TimeSpan.FromMilliseconds(RetryBackoffMaxMilliseconds), TimeSpan.FromSeconds(RetryTimeLimitSeconds));
            _sender = new RecordSender(_client, settings, _recordsPerCall, MaxConcurrentRequests, Delay, () => { lock (random) return random.NextDouble(); }, () => DateTime.UtcNow, this);

            InternalLogger.Info("{0}: sending to {1} (signing region {2}, credentials from {3})", this, _endpoint.ServiceUri, _endpoint.SigningRegion,
                profileCredentials != null ? "profile '" + (profile ?? "default") + "'" : "the AWS SDK's default chain");
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
            if (RetryCount > 0)
            {
                InternalLogger.Warn("{0}: retryCount is ignored: the target retries failed records itself (see retryTimeLimitSeconds); NLog's retry would resend records Firehose already accepted", this);
                RetryCount = 0;
            }
            int neededTimeout = RetryTimeLimitSeconds + RequestTimeoutSeconds + 10;
            if (TaskTimeoutSeconds > 0 && TaskTimeoutSeconds < neededTimeout)
            {
                InternalLogger.Debug("{0}: raising taskTimeoutSeconds from {1} to {2} so NLog does not cancel a write that is still retrying", this, TaskTimeoutSeconds, neededTimeout);
                TaskTimeoutSeconds = neededTimeout;
            }
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
        protected override void CloseTarget()
        {
            // NLog flushes before closing on Shutdown(); on Linux process exit it closes without flushing. Let the write
            // in flight finish (bounded) rather than cancel it half-way.
            var inflight = _inflight;
            if (inflight != null && !inflight.IsCompleted)
            {
                InternalLogger.Debug("{0}: waiting up to {1} ms for the write in flight before closing", this, CloseDrainMilliseconds);
                try
                {
                    inflight.Wait(CloseDrainMilliseconds);
                }
                catch (AggregateException)
                {
                    // Already reported by the write itself.
                }
            }

            base.CloseTarget();
            BatchSize = _recordsPerCall;
            _client?.Dispose();
            _client = null;
            _sender = null;
            _inflight = null;
        }

        /// <inheritdoc/>
        protected override Task WriteAsyncTask(LogEventInfo logEvent, CancellationToken cancellationToken)
        {
            return WriteAsyncTask(new[] { logEvent }, cancellationToken);
        }

        /// <inheritdoc/>
        protected override Task WriteAsyncTask(IList<LogEventInfo> logEvents, CancellationToken cancellationToken)
        {
            var task = WriteBatchAsync(logEvents, cancellationToken);
            _inflight = task;
            return task;
        }

        private async Task WriteBatchAsync(IList<LogEventInfo> logEvents, CancellationToken cancellationToken)
        {
            var sender = _sender ?? throw new InvalidOperationException($"{this} is not initialized.");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(RetryTimeLimitSeconds);

            var groups = GroupRecords(logEvents, _encoder!, out int notSent);
            var result = await sender.SendAsync(groups, deadline, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _deliveredEvents, result.Delivered);

            string? lastError = notSent > 0 ? "InvalidDeliveryStreamName" : null;
            foreach (var failure in result.Failures)
            {
                lastError = failure.ErrorCode ?? "Unknown";
                InternalLogger.Error("{0}: delivery stream '{1}' (region {2}): {3} events not delivered; error {4}: {5}",
                    this, failure.Stream, _endpoint?.SigningRegion, failure.Records, lastError, failure.Message);
            }

            int failed = notSent + result.Failed;
            if (failed > 0)
            {
                Interlocked.Add(ref _failedEvents, failed);
                throw new FirehoseDeliveryException($"{failed} of {logEvents.Count} log events were not delivered to Firehose (last error {lastError}).", lastError);
            }
        }

        /// <summary>Renders and encodes the events, grouped per rendered stream name, in arrival order.</summary>
        private Dictionary<string, List<byte[]>> GroupRecords(IList<LogEventInfo> logEvents, RecordEncoder encoder, out int notSent)
        {
            var groups = new Dictionary<string, List<byte[]>>(StringComparer.Ordinal);
            notSent = 0;
            int truncated = 0;
            int dropped = 0;
            string? badName = null;
            for (int i = 0; i < logEvents.Count; i++)
            {
                var logEvent = logEvents[i];
                string stream;
                byte[]? record;
                EncodeOutcome outcome;
                try
                {
                    stream = RenderLogEvent(DeliveryStreamName, logEvent);
                    if (!FirehoseLimits.IsValidStreamName(stream))
                    {
                        badName = stream;
                        notSent++;
                        continue;
                    }
                    record = encoder.Encode(RenderLogEvent(Layout, logEvent), logEvent, out outcome);
                }
                catch (Exception ex) when (!(ex is OutOfMemoryException))
                {
                    InternalLogger.Error(ex, "{0}: could not render a log event of logger '{1}'; it is left out", this, logEvent.LoggerName);
                    dropped++;
                    continue;
                }

                if (outcome == EncodeOutcome.Truncated)
                    truncated++;
                if (record is null)
                {
                    dropped++;
                    continue;
                }
                if (!groups.TryGetValue(stream, out var list))
                {
                    list = new List<byte[]>(logEvents.Count);
                    groups.Add(stream, list);
                }
                list.Add(record);
            }

            if (truncated > 0)
            {
                Interlocked.Add(ref _truncatedEvents, truncated);
                InternalLogger.Warn("{0}: truncated {1} events larger than the {2}-byte record limit ({3} so far)", this, truncated, FirehoseLimits.MaxRecordBytes, TruncatedEvents);
            }
            if (dropped > 0)
            {
                Interlocked.Add(ref _droppedEvents, dropped);
                InternalLogger.Warn("{0}: dropped {1} events that were larger than the {2}-byte record limit or could not be rendered ({3} so far)", this, dropped, FirehoseLimits.MaxRecordBytes, DroppedEvents);
            }
            if (notSent > 0)
                InternalLogger.Error("{0}: {1} events rendered the invalid delivery stream name '{2}' (1-64 characters of a-z, A-Z, 0-9, '_', '.', '-'); they go to NLog's failure path", this, notSent, badName);
            return groups;
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
