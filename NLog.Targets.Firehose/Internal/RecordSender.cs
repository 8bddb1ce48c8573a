using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using NLog.Common;

namespace NLog.Targets.Firehose.Internal
{
    /// <summary>Retry settings of <see cref="RecordSender"/>.</summary>
    internal sealed class RetrySettings
    {
        public RetrySettings(TimeSpan backoffBase, TimeSpan backoffMax, TimeSpan timeLimit)
        {
            BackoffBase = backoffBase;
            BackoffMax = backoffMax;
            TimeLimit = timeLimit;
        }

        public TimeSpan BackoffBase { get; }

        public TimeSpan BackoffMax { get; }

        /// <summary>How long one write may keep retrying before its events go to NLog's failure path.</summary>
        public TimeSpan TimeLimit { get; }
    }

    /// <summary>Why records of one stream were not delivered.</summary>
    internal sealed class StreamFailure
    {
        public StreamFailure(string stream, int records, string? errorCode, string message, bool persistent, bool permanent)
        {
            Stream = stream;
            Records = records;
            ErrorCode = errorCode;
            Message = message;
            Persistent = persistent;
            Permanent = permanent;
        }

        public string Stream { get; }

        /// <summary>Records of the stream that were not delivered (undelivered and rejected).</summary>
        public int Records { get; }

        public string? ErrorCode { get; }

        public string Message { get; }

        /// <summary>
        /// True when calls to the stream failed with an error retrying does not cure (missing stream, access denied,
        /// no credentials) or the retry time limit ran out: the stream should pause.
        /// </summary>
        public bool Persistent { get; }

        /// <summary>True when the error itself is one retrying does not cure (not merely the time limit running out).</summary>
        public bool Permanent { get; }
    }

    /// <summary>The outcome of <see cref="RecordSender.SendAsync"/>: every record ends up in exactly one of the lists.</summary>
    internal sealed class SendResult
    {
        /// <summary>Accepted by Firehose.</summary>
        public List<BufferedRecord> Delivered { get; } = new List<BufferedRecord>();

        /// <summary>Refused by Firehose for good (a per-record error retrying cannot cure).</summary>
        public List<BufferedRecord> Rejected { get; } = new List<BufferedRecord>();

        /// <summary>Not delivered yet: worth sending again later.</summary>
        public List<BufferedRecord> Undelivered { get; } = new List<BufferedRecord>();

        /// <summary>Per stream, why records were not delivered.</summary>
        public List<StreamFailure> Failures { get; } = new List<StreamFailure>();

        public int Calls { get; set; }

        public int Retries { get; set; }

        public int Throttles { get; set; }
    }

    /// <summary>
    /// Delivers one write's records, grouped per stream, with up to <c>maxConcurrentCalls</c> PutRecordBatch calls in
    /// flight. Each call slot is a worker: it takes records from the front of a stream's queue (within the
    /// records-per-call and byte limits) and sends them. Records a call did not get accepted stay with the worker and go
    /// first in its next call, topped up with fresh records; a record Firehose accepted is never sent again. A call that
    /// made no progress (throttled, 5xx, network fault, every record failed) makes its worker back off exponentially
    /// with full jitter, as the AWS SDKs do per request; a call that was partly accepted makes it wait only briefly, in
    /// proportion to the share that failed. When a call is fully accepted the endpoint is healthy again, so workers that
    /// are backing off retry at once (after an outage the first success ends every long wait). A permanent error ends its
    /// stream's delivery at once; the time limit ends all retrying.
    /// </summary>
    internal sealed class RecordSender
    {
        private readonly IFirehoseClient _client;
        private readonly Backoff _backoff;
        private readonly int _recordsPerCall;
        private readonly int _maxConcurrentCalls;
        private readonly Func<TimeSpan, CancellationToken, Task> _delay;
        private readonly Func<DateTime> _utcNow;
        private readonly object _target;

        public RecordSender(IFirehoseClient client, RetrySettings settings, int recordsPerCall, int maxConcurrentCalls,
            Func<TimeSpan, CancellationToken, Task> delay, Func<double> random, Func<DateTime> utcNow, object target)
        {
            _client = client;
            _backoff = new Backoff(settings.BackoffBase, settings.BackoffMax, random);
            _recordsPerCall = recordsPerCall;
            _maxConcurrentCalls = maxConcurrentCalls;
            _delay = delay;
            _utcNow = utcNow;
            _target = target;
        }

        /// <summary>Sends every record of <paramref name="groups"/>; never throws for delivery failures, it reports them.</summary>
        public async Task<SendResult> SendAsync(IEnumerable<KeyValuePair<string, List<BufferedRecord>>> groups, DateTime deadlineUtc, CancellationToken cancellationToken)
        {
            var write = new WriteState();
            int totalRecords = 0;
            foreach (var group in groups)
            {
                write.Streams.Add(new StreamState(group.Key, group.Value));
                totalRecords += group.Value.Count;
            }

            int workers = Math.Max(1, Math.Min(_maxConcurrentCalls, (totalRecords + _recordsPerCall - 1) / _recordsPerCall));
            var tasks = new Task[workers];
            for (int i = 0; i < workers; i++)
                tasks[i] = WorkerAsync(write, deadlineUtc, cancellationToken);
            await Task.WhenAll(tasks).ConfigureAwait(false);

            foreach (var stream in write.Streams)
            {
                int notDelivered = stream.Undelivered.Count + stream.Rejected.Count;
                if (notDelivered > 0)
                    write.Outcome.Failures.Add(new StreamFailure(stream.Name, notDelivered, stream.LastErrorCode, stream.LastErrorMessage ?? "not delivered", stream.Failed, stream.FailedPermanently));
                write.Outcome.Undelivered.AddRange(stream.Undelivered);
                write.Outcome.Rejected.AddRange(stream.Rejected);
            }
            return write.Outcome;
        }

        private async Task WorkerAsync(WriteState write, DateTime deadlineUtc, CancellationToken cancellationToken)
        {
            StreamState? stream = null;
            List<BufferedRecord>? carry = null;
            int attempt = 0;
            while (true)
            {
                List<BufferedRecord> records;
                lock (write)
                {
                    if (carry != null && stream!.Failed)
                    {
                        stream.Fail(carry, null, null);
                        carry = null;
                    }
                    if (carry is null)
                    {
                        stream = write.NextStreamWithPending();
                        if (stream is null)
                            return;
                        attempt = 0;
                    }
                    records = stream!.TakeCall(carry, _recordsPerCall, FirehoseLimits.MaxBytesPerCall);
                    carry = null;
                    write.Outcome.Calls++;
                }

                var outcome = await SendOnceAsync(stream, records, cancellationToken).ConfigureAwait(false);
                TimeSpan wait = TimeSpan.Zero;
                Task wake;
                lock (write)
                {
                    write.Outcome.Delivered.AddRange(outcome.Accepted);
                    stream.Rejected.AddRange(outcome.Rejected);
                    write.Outcome.Throttles += outcome.Throttles;
                    if (outcome.Accepted.Count == records.Count)
                        write.WakeBackedOffWorkers();
                    wake = write.Wake;
                    if (outcome.Permanent)
                    {
                        // This stream would fail the same way for every record.
                        stream.FailedPermanently = true;
                        stream.Fail(outcome.Retry!, outcome.Code, outcome.Message);
                        stream.Fail(stream.DrainPending(), outcome.Code, outcome.Message);
                        continue;
                    }
                    if (outcome.Retry is null)
                        continue;

                    if (outcome.Accepted.Count > 0)
                    {
                        // Partly accepted: there is capacity. Wait briefly, in proportion to what failed, and restart the backoff.
                        attempt = 0;
                        wait = TimeSpan.FromTicks((long)(_backoff.Next(0).Ticks * ((double)outcome.Retry.Count / records.Count)));
                    }
                    else
                    {
                        wait = _backoff.Next(attempt);
                        attempt++;
                    }

                    if (_utcNow() + wait >= deadlineUtc)
                    {
                        // Out of time: give up this worker's records and everything not sent yet.
                        foreach (var other in write.Streams)
                            other.Fail(other.DrainPending(), outcome.Code, "the retry time limit ran out");
                        stream.Fail(outcome.Retry, outcome.Code, $"the retry time limit ran out; last error {outcome.Code}: {outcome.Message}");
                        continue;
                    }
                    carry = outcome.Retry;
                    write.Outcome.Retries++;
                }

                InternalLogger.Debug("{0}: retrying {1} records of delivery stream '{2}' in {3} ms after {4}", _target, carry.Count, stream.Name, (long)wait.TotalMilliseconds, outcome.Code);
                if (wait > TimeSpan.Zero)
                    await Task.WhenAny(_delay(wait, cancellationToken), wake).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        /// <summary>One call and what became of its records.</summary>
        private async Task<CallOutcome> SendOnceAsync(StreamState stream, List<BufferedRecord> records, CancellationToken cancellationToken)
        {
            PutRecordBatchResult response;
            try
            {
                response = await _client.PutRecordBatchAsync(stream.Name, records, cancellationToken).ConfigureAwait(false);
            }
            catch (FirehoseServiceException ex)
            {
                var kind = ex.Kind;
                string code = ex.ErrorCode ?? "HTTP " + ex.StatusCode;
                if (kind == FailureKind.Throttled || kind == FailureKind.Transient)
                    return CallOutcome.NothingAccepted(records, code, ex.ServiceMessage, kind == FailureKind.Throttled ? 1 : 0);
                return CallOutcome.Failed(records, code, ex.Message);
            }
            catch (Exception ex) when (IsNetworkFault(ex, cancellationToken))
            {
                return CallOutcome.NothingAccepted(records, ex.GetType().Name, ex.Message, 0);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && !(ex is OutOfMemoryException))
            {
                // Unexpected (a client closed under us, say): the stream stops for this round; the records are kept.
                return CallOutcome.Failed(records, ex.GetType().Name, ex.Message);
            }

            var outcome = new CallOutcome(records.Count);
            if (response.FailedPutCount == 0)
            {
                outcome.Accepted.AddRange(records);
                return outcome;
            }

            for (int i = 0; i < records.Count; i++)
            {
                string? code = response.ErrorCodes[i];
                if (code is null)
                {
                    outcome.Accepted.Add(records[i]);
                    continue;
                }
                outcome.Code = code;
                outcome.Message = response.ErrorMessages[i];
                var kind = ErrorClassifier.ClassifyRecord(code);
                if (kind == FailureKind.Permanent)
                {
                    outcome.Rejected.Add(records[i]);
                    outcome.RejectedCode = code;
                    outcome.RejectedMessage = response.ErrorMessages[i];
                    continue;
                }
                if (kind == FailureKind.Throttled)
                    outcome.Throttles++;
                (outcome.Retry ??= new List<BufferedRecord>()).Add(records[i]);
            }
            if (outcome.Rejected.Count > 0)
                lock (stream)
                    stream.NoteError(outcome.RejectedCode, $"Firehose rejected {outcome.Rejected.Count} records of delivery stream '{stream.Name}' with {outcome.RejectedCode}: {outcome.RejectedMessage}");
            if (outcome.Retry != null)
                InternalLogger.Debug("{0}: {1} of {2} records failed in delivery stream '{3}' ({4}); resending only those", _target, outcome.Retry.Count, records.Count, stream.Name, outcome.Code);
            return outcome;
        }

        private static bool IsNetworkFault(Exception ex, CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested)
                return false;
            return ex is HttpRequestException || ex is IOException || ex is TimeoutException || ex is OperationCanceledException
                || ex is System.Net.Sockets.SocketException;
        }

        private sealed class CallOutcome
        {
            public CallOutcome(int capacity)
            {
                Accepted = new List<BufferedRecord>(capacity);
            }

            public static CallOutcome NothingAccepted(List<BufferedRecord> records, string code, string? message, int throttles) =>
                new CallOutcome(0) { Retry = records, Code = code, Message = message, Throttles = throttles };

            public static CallOutcome Failed(List<BufferedRecord> records, string code, string message) =>
                new CallOutcome(0) { Retry = records, Code = code, Message = message, Permanent = true };

            public List<BufferedRecord> Accepted { get; }

            /// <summary>Refused for good, per record.</summary>
            public List<BufferedRecord> Rejected { get; } = new List<BufferedRecord>();

            public string? RejectedCode { get; set; }

            public string? RejectedMessage { get; set; }

            /// <summary>Records to send again; null when none.</summary>
            public List<BufferedRecord>? Retry { get; set; }

            public string? Code { get; set; }

            public string? Message { get; set; }

            public int Throttles { get; set; }

            /// <summary>The call failed with an error that retrying does not cure.</summary>
            public bool Permanent { get; private set; }
        }

        private sealed class WriteState
        {
            private int _roundRobin;
            private TaskCompletionSource<bool> _wake = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

            /// <summary>Completes when a call was fully accepted: the endpoint is healthy, so backing-off workers retry now.</summary>
            public Task Wake => _wake.Task;

            public void WakeBackedOffWorkers()
            {
                if (_wake.Task.IsCompleted)
                    return;
                var woken = _wake;
                _wake = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                woken.TrySetResult(true);
            }

            public List<StreamState> Streams { get; } = new List<StreamState>();

            public SendResult Outcome { get; } = new SendResult();

            public StreamState? NextStreamWithPending()
            {
                for (int n = 0; n < Streams.Count; n++)
                {
                    var stream = Streams[(_roundRobin + n) % Streams.Count];
                    if (stream.HasPending)
                    {
                        _roundRobin = (_roundRobin + n + 1) % Streams.Count;
                        return stream;
                    }
                }
                return null;
            }
        }

        /// <summary>One stream's records not sent yet, and what was not delivered.</summary>
        private sealed class StreamState
        {
            private readonly List<BufferedRecord> _pending;
            private int _head;

            public StreamState(string name, List<BufferedRecord> records)
            {
                Name = name;
                _pending = records;
            }

            public string Name { get; }

            public bool HasPending => !Failed && _head < _pending.Count;

            /// <summary>No more calls to this stream in this round.</summary>
            public bool Failed { get; private set; }

            /// <summary>It failed with an error retrying does not cure.</summary>
            public bool FailedPermanently { get; set; }

            public List<BufferedRecord> Undelivered { get; } = new List<BufferedRecord>();

            public List<BufferedRecord> Rejected { get; } = new List<BufferedRecord>();

            public string? LastErrorCode { get; private set; }

            public string? LastErrorMessage { get; private set; }

            /// <summary>The next call: <paramref name="carry"/> first, topped up from the front of the queue within the limits.</summary>
            public List<BufferedRecord> TakeCall(List<BufferedRecord>? carry, int maxRecords, int maxBytes)
            {
                var call = carry ?? new List<BufferedRecord>(maxRecords);
                long bytes = 0;
                foreach (var record in call)
                    bytes += record.Data.Length;
                if (Failed)
                    return call;
                int count = BatchPlanner.NextCallSize(_pending, _head, maxRecords - call.Count, (int)(maxBytes - bytes));
                for (int i = 0; i < count; i++)
                    call.Add(_pending[_head + i]);
                _head += count;
                return call;
            }

            /// <summary>Removes every record not sent yet and returns them.</summary>
            public List<BufferedRecord> DrainPending()
            {
                var rest = _pending.GetRange(_head, _pending.Count - _head);
                _head = _pending.Count;
                return rest;
            }

            public void NoteError(string? code, string message)
            {
                LastErrorCode = code ?? LastErrorCode;
                LastErrorMessage = message;
            }

            /// <summary>The stream takes no more calls in this round; <paramref name="records"/> were not delivered.</summary>
            public void Fail(List<BufferedRecord> records, string? code, string? message)
            {
                Failed = true;
                Undelivered.AddRange(records);
                LastErrorCode = code ?? LastErrorCode;
                LastErrorMessage = message ?? LastErrorMessage;
            }
        }
    }
}
