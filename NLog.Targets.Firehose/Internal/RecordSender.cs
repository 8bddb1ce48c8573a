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

    /// <summary>What could not be delivered to one stream.</summary>
    internal sealed class StreamFailure
    {
        public StreamFailure(string stream, int records, string? errorCode, string message)
        {
            Stream = stream;
            Records = records;
            ErrorCode = errorCode;
            Message = message;
        }

        public string Stream { get; }

        public int Records { get; }

        public string? ErrorCode { get; }

        public string Message { get; }
    }

    /// <summary>The outcome of <see cref="RecordSender.SendAsync"/>.</summary>
    internal sealed class SendResult
    {
        public int Delivered { get; set; }

        public int Calls { get; set; }

        public int Retries { get; set; }

        public int Throttles { get; set; }

        public List<StreamFailure> Failures { get; } = new List<StreamFailure>();

        public int Failed
        {
            get
            {
                int failed = 0;
                foreach (var failure in Failures)
                    failed += failure.Records;
                return failed;
            }
        }
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
        public async Task<SendResult> SendAsync(IEnumerable<KeyValuePair<string, List<byte[]>>> groups, DateTime deadlineUtc, CancellationToken cancellationToken)
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
                if (stream.FailedRecords > 0)
                    write.Outcome.Failures.Add(new StreamFailure(stream.Name, stream.FailedRecords, stream.LastErrorCode, stream.LastErrorMessage ?? "not delivered"));
            }
            return write.Outcome;
        }

        private async Task WorkerAsync(WriteState write, DateTime deadlineUtc, CancellationToken cancellationToken)
        {
            StreamState? stream = null;
            List<byte[]>? carry = null;
            int attempt = 0;
            while (true)
            {
                List<byte[]> records;
                lock (write)
                {
                    if (carry != null && stream!.Failed)
                    {
                        stream.Fail(carry.Count, null, null);
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
                    write.Outcome.Delivered += outcome.Accepted;
                    write.Outcome.Throttles += outcome.Throttles;
                    if (outcome.Accepted == records.Count)
                        write.WakeBackedOffWorkers();
                    wake = write.Wake;
                    if (outcome.Permanent)
                    {
                        // This stream would fail the same way for every record.
                        stream.Fail(records.Count - outcome.Accepted + stream.DrainPending(), outcome.Code, outcome.Message);
                        continue;
                    }
                    if (outcome.Retry is null)
                        continue;

                    if (outcome.Accepted > 0)
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
                        stream.Fail(outcome.Retry.Count, outcome.Code, $"gave up after the retry time limit; last error {outcome.Code}: {outcome.Message}");
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
        private async Task<CallOutcome> SendOnceAsync(StreamState stream, List<byte[]> records, CancellationToken cancellationToken)
        {
            PutRecordBatchResult response;
            try
            {
                response = await _client.PutRecordBatchAsync(stream.Name, records, 0, records.Count, cancellationToken).ConfigureAwait(false);
            }
            catch (FirehoseServiceException ex)
            {
                var kind = ex.Kind;
                string code = ex.ErrorCode ?? "HTTP " + ex.StatusCode;
                if (kind == FailureKind.Throttled || kind == FailureKind.Transient)
                    return new CallOutcome(0, records, code, ex.ServiceMessage, kind == FailureKind.Throttled ? 1 : 0);
                return CallOutcome.Failed(code, ex.Message);
            }
            catch (Exception ex) when (IsNetworkFault(ex, cancellationToken))
            {
                return new CallOutcome(0, records, ex.GetType().Name, ex.Message, 0);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && !(ex is OutOfMemoryException))
            {
                // Unexpected (a client closed under us, say): these records fail; the rest of the write goes on.
                return CallOutcome.Failed(ex.GetType().Name, ex.Message);
            }

            if (response.FailedPutCount == 0)
                return new CallOutcome(records.Count, null, null, null, 0);

            List<byte[]>? retry = null;
            string? lastCode = null;
            string? lastMessage = null;
            int accepted = 0;
            int throttles = 0;
            for (int i = 0; i < records.Count; i++)
            {
                string? code = response.ErrorCodes[i];
                if (code is null)
                {
                    accepted++;
                    continue;
                }
                lastCode = code;
                lastMessage = response.ErrorMessages[i];
                var kind = ErrorClassifier.ClassifyRecord(code);
                if (kind == FailureKind.Permanent)
                {
                    lock (stream)
                        stream.Reject(code, $"Firehose rejected a record of delivery stream '{stream.Name}' with {code}: {lastMessage}");
                    continue;
                }
                if (kind == FailureKind.Throttled)
                    throttles++;
                (retry ??= new List<byte[]>()).Add(records[i]);
            }
            if (retry != null)
                InternalLogger.Debug("{0}: {1} of {2} records failed in delivery stream '{3}' ({4}); resending only those", _target, retry.Count, records.Count, stream.Name, lastCode);
            return new CallOutcome(accepted, retry, lastCode, lastMessage, throttles);
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
            public CallOutcome(int accepted, List<byte[]>? retry, string? code, string? message, int throttles)
            {
                Accepted = accepted;
                Retry = retry;
                Code = code;
                Message = message;
                Throttles = throttles;
            }

            public static CallOutcome Failed(string code, string message) => new CallOutcome(0, null, code, message, 0) { Permanent = true };

            public int Accepted { get; }

            /// <summary>Records to send again; null when none.</summary>
            public List<byte[]>? Retry { get; }

            public string? Code { get; }

            public string? Message { get; }

            public int Throttles { get; }

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

        /// <summary>One stream's records not sent yet, and what failed.</summary>
        private sealed class StreamState
        {
            private readonly List<byte[]> _pending;
            private int _head;

            public StreamState(string name, List<byte[]> records)
            {
                Name = name;
                _pending = records;
            }

            public string Name { get; }

            public bool HasPending => !Failed && _head < _pending.Count;

            public bool Failed { get; private set; }

            public int FailedRecords { get; private set; }

            public string? LastErrorCode { get; private set; }

            public string? LastErrorMessage { get; private set; }

            /// <summary>The next call: <paramref name="carry"/> first, topped up from the front of the queue within the limits.</summary>
            public List<byte[]> TakeCall(List<byte[]>? carry, int maxRecords, int maxBytes)
            {
                var call = carry ?? new List<byte[]>(maxRecords);
                long bytes = 0;
                foreach (var record in call)
                    bytes += record.Length;
                if (Failed)
                    return call;
                int count = BatchPlanner.NextCallSize(_pending, _head, maxRecords - call.Count, (int)(maxBytes - bytes));
                for (int i = 0; i < count; i++)
                    call.Add(_pending[_head + i]);
                _head += count;
                return call;
            }

            /// <summary>Removes every record not sent yet; returns how many.</summary>
            public int DrainPending()
            {
                int count = _pending.Count - _head;
                _head = _pending.Count;
                return count;
            }

            /// <summary>One record the service will never accept; the stream goes on.</summary>
            public void Reject(string code, string message)
            {
                FailedRecords++;
                LastErrorCode = code;
                LastErrorMessage = message;
            }

            /// <summary>The stream will not be sent to again in this write; <paramref name="records"/> more failed.</summary>
            public void Fail(int records, string? code, string? message)
            {
                Failed = true;
                FailedRecords += records;
                LastErrorCode = code ?? LastErrorCode;
                LastErrorMessage = message ?? LastErrorMessage;
            }
        }
    }
}
