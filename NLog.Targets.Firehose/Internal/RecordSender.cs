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

    /// <summary>
    /// Delivers one call's worth of records with retry: throttling, 5xx, timeouts and dropped connections retry the
    /// whole call with exponential backoff and full jitter; per-record failures inside a 200 resend only the failed
    /// records, in their original order, after a short wait proportional to the share that failed; a record Firehose
    /// accepted is never sent again. Permanent errors end the call at once.
    /// </summary>
    internal sealed class RecordSender
    {
        private readonly IFirehoseClient _client;
        private readonly Backoff _backoff;
        private readonly Func<TimeSpan, CancellationToken, Task> _delay;
        private readonly Func<DateTime> _utcNow;
        private readonly object _target;

        public RecordSender(IFirehoseClient client, RetrySettings settings, Func<TimeSpan, CancellationToken, Task> delay, Func<double> random, Func<DateTime> utcNow, object target)
        {
            _client = client;
            _backoff = new Backoff(settings.BackoffBase, settings.BackoffMax, random);
            _delay = delay;
            _utcNow = utcNow;
            _target = target;
        }

        /// <summary>Statistics of one <see cref="SendAsync"/>.</summary>
        internal struct SendStats
        {
            public int Calls;
            public int Retries;
            public int Throttles;
        }

        /// <summary>
        /// Sends <paramref name="count"/> records from <paramref name="start"/>; returns when all were accepted.
        /// Throws <see cref="FirehoseDeliveryException"/> when some could not be delivered before
        /// <paramref name="deadlineUtc"/> or failed permanently.
        /// </summary>
        public async Task<SendStats> SendAsync(string streamName, IReadOnlyList<byte[]> records, int start, int count, DateTime deadlineUtc, CancellationToken cancellationToken)
        {
            var stats = default(SendStats);
            IReadOnlyList<byte[]> pending = records;
            int pendingStart = start;
            int pendingCount = count;
            int attempt = 0;
            int rejected = 0;
            string? rejectedCode = null;
            string? rejectedMessage = null;
            while (true)
            {
                string? lastCode;
                string? lastMessage;
                Exception? lastException = null;
                try
                {
                    stats.Calls++;
                    var result = await _client.PutRecordBatchAsync(streamName, pending, pendingStart, pendingCount, cancellationToken).ConfigureAwait(false);
                    if (result.FailedPutCount == 0)
                        return Completed(stats, streamName, count, rejected, rejectedCode, rejectedMessage);

                    // Keep only the failed records, in order; accepted ones are never sent again.
                    var retry = new List<byte[]>(result.FailedPutCount);
                    lastCode = null;
                    lastMessage = null;
                    for (int i = 0; i < pendingCount; i++)
                    {
                        string? code = result.ErrorCodes[i];
                        if (code is null)
                            continue;
                        lastCode = code;
                        lastMessage = result.ErrorMessages[i];
                        var kind = ErrorClassifier.ClassifyRecord(code);
                        if (kind == FailureKind.Permanent)
                        {
                            rejected++;
                            rejectedCode = code;
                            rejectedMessage = lastMessage;
                            continue;
                        }
                        if (kind == FailureKind.Throttled)
                            stats.Throttles++;
                        retry.Add(pending[pendingStart + i]);
                    }

                    if (retry.Count == 0)
                        return Completed(stats, streamName, count, rejected, rejectedCode, rejectedMessage);

                    InternalLogger.Debug("{0}: {1} of {2} records failed in delivery stream '{3}' ({4}); resending only those", _target, retry.Count, pendingCount, streamName, lastCode);
                    bool progress = retry.Count < pendingCount;
                    double failedShare = (double)retry.Count / pendingCount;
                    pending = retry;
                    pendingStart = 0;
                    pendingCount = retry.Count;
                    if (progress)
                    {
                        // The call was partly accepted: there is capacity. Resend the rest after a short wait that
                        // grows with the share that failed, and start the exponential backoff afresh.
                        attempt = 0;
                        var shortWait = TimeSpan.FromTicks((long)(_backoff.Next(0).Ticks * failedShare));
                        if (_utcNow() + shortWait > deadlineUtc)
                            throw GiveUp(streamName, count, pendingCount, stats, lastCode, lastMessage, null);
                        stats.Retries++;
                        await _delay(shortWait, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                }
                catch (FirehoseServiceException ex)
                {
                    var kind = ex.Kind;
                    if (kind != FailureKind.Throttled && kind != FailureKind.Transient)
                        throw new FirehoseDeliveryException($"PutRecordBatch to delivery stream '{streamName}' failed: {ex.Message}", ex.ErrorCode, ex);
                    if (kind == FailureKind.Throttled)
                        stats.Throttles++;
                    lastCode = ex.ErrorCode ?? ("HTTP " + ex.StatusCode);
                    lastMessage = ex.ServiceMessage;
                    lastException = ex;
                }
                catch (Exception ex) when (IsNetworkFault(ex, cancellationToken))
                {
                    lastCode = ex.GetType().Name;
                    lastMessage = ex.Message;
                    lastException = ex;
                }

                var wait = _backoff.Next(attempt);
                if (_utcNow() + wait > deadlineUtc)
                    throw GiveUp(streamName, count, pendingCount, stats, lastCode, lastMessage, lastException);

                InternalLogger.Debug("{0}: retrying {1} records of delivery stream '{2}' in {3} ms after {4}", _target, pendingCount, streamName, (long)wait.TotalMilliseconds, lastCode);
                stats.Retries++;
                attempt++;
                await _delay(wait, cancellationToken).ConfigureAwait(false);
            }
        }

        private static FirehoseDeliveryException GiveUp(string streamName, int count, int pendingCount, SendStats stats, string? lastCode, string? lastMessage, Exception? lastException)
        {
            return new FirehoseDeliveryException(
                $"Gave up on {pendingCount} of {count} records of delivery stream '{streamName}' after {stats.Calls} calls; last error {lastCode}: {lastMessage}", lastCode, lastException);
        }

        private static SendStats Completed(SendStats stats, string streamName, int count, int rejected, string? code, string? message)
        {
            if (rejected > 0)
                throw new FirehoseDeliveryException($"Firehose rejected {rejected} of {count} records of delivery stream '{streamName}' with {code}: {message}", code);
            return stats;
        }

        private static bool IsNetworkFault(Exception ex, CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested)
                return false;
            return ex is HttpRequestException || ex is IOException || ex is TimeoutException || ex is OperationCanceledException
                || ex is System.Net.Sockets.SocketException;
        }
    }
}
