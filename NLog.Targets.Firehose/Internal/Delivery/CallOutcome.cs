using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;
using System.Runtime.CompilerServices;
using System.Threading;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// What became of a call's records, and the one place that decides it: from Firehose's answer
    /// (<see cref="FromResponse"/>) or from the call's failure (<see cref="FromFailure"/>). Accepted records are done;
    /// records refused for good are rejected; the rest go again (<see cref="Retry"/>).
    /// </summary>
    internal sealed class CallOutcome
    {
        private CallOutcome(int capacity)
        {
            Accepted = new List<BufferedRecord>(capacity);
        }

        public List<BufferedRecord> Accepted { get; }

        /// <summary>Refused for good, per record.</summary>
        public List<BufferedRecord> Rejected { get; } = new List<BufferedRecord>();

        public string? RejectedCode { get; private set; }

        public string? RejectedMessage { get; private set; }

        /// <summary>Records to send again; null when none.</summary>
        public List<BufferedRecord>? Retry { get; private set; }

        /// <summary>Why records go again (an error code, an exception's type).</summary>
        public string? Code { get; private set; }

        public string? Message { get; private set; }

        /// <summary>Throttled calls and records.</summary>
        public int Throttles { get; private set; }

        /// <summary>Events of the call refused by throttling inside Firehose's answer (a packed record's events all count).</summary>
        public int ThrottledEvents { get; private set; }

        /// <summary>Firehose answered the call (200, per record); false when the call failed as a whole.</summary>
        public bool Answered { get; private set; }

        /// <summary>The call failed with an error that retrying does not cure.</summary>
        public bool Permanent { get; private set; }

        /// <summary>Firehose records accepted (a packed record counts once), their bytes and billed 5 KB units.</summary>
        public long AcceptedRecords { get; private set; }

        public long AcceptedBytes { get; private set; }

        public long BilledUnits { get; private set; }

        /// <summary>The accepted events' own bytes (before packing's compression, if any).</summary>
        public long AcceptedEventBytes { get; private set; }

        /// <summary>Nothing accepted; everything goes again (throttling, 5xx, a network fault, the target closing).</summary>
        public static CallOutcome NothingAccepted(List<BufferedRecord> records, string code, string? message, int throttles) =>
            new CallOutcome(0) { Retry = records, Code = code, Message = message, Throttles = throttles };

        /// <summary>An error retrying does not cure; the records are kept (they go again once the stream recovers).</summary>
        public static CallOutcome Failed(List<BufferedRecord> records, string code, string message) =>
            new CallOutcome(0) { Retry = records, Code = code, Message = message, Permanent = true };

        /// <summary>
        /// A call that threw: service errors by their kind, network faults and timeouts as transient, anything else as an
        /// error retrying does not cure. Null when the exception is not the call's to classify (the target stopping,
        /// out of memory).
        /// </summary>
        public static CallOutcome? FromFailure(Exception ex, List<BufferedRecord> records, CancellationToken cancellationToken)
        {
            if (ex is OutOfMemoryException)
                return null;
            if (ex is FirehoseServiceException service)
            {
                var kind = service.Kind;
                string code = service.ErrorCode ?? "HTTP " + service.StatusCode;
                if (kind == FailureKind.Throttled || kind == FailureKind.Transient)
                    return NothingAccepted(records, code, service.ServiceMessage, kind == FailureKind.Throttled ? 1 : 0);
                return Failed(records, code, service.Message);
            }
            if (cancellationToken.IsCancellationRequested)
                return null;
            if (ex is HttpRequestException || ex is IOException || ex is TimeoutException || ex is OperationCanceledException
                || ex is System.Net.Sockets.SocketException)
                return NothingAccepted(records, ex.GetType().Name, ex.Message, 0);
            // Unexpected (a client closed under us, say): treat like an error retrying does not cure; records are kept.
            return Failed(records, ex.GetType().Name, ex.Message);
        }

        /// <summary>
        /// What became of each record of a call Firehose answered 200 (<paramref name="wire"/>: as sent; with packing,
        /// <paramref name="starts"/> gives the first event of each packed record, whose events share its fate).
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        public static CallOutcome FromResponse(List<BufferedRecord> records, List<BufferedRecord> wire, List<int>? starts, PutRecordBatchResult response)
        {
            var outcome = new CallOutcome(records.Count) { Answered = true };
            for (int i = 0; i < wire.Count; i++)
            {
                int first = starts is null ? i : starts[i];
                int end = starts is null ? i + 1 : i + 1 < starts.Count ? starts[i + 1] : records.Count;
                string? code = response.FailedPutCount == 0 ? null : response.ErrorCodes[i];
                if (code is null)
                {
                    outcome.AcceptedRecords++;
                    outcome.AcceptedBytes += wire[i].Data.Length;
                    outcome.BilledUnits += RecordPacker.BilledUnits(wire[i].Data.Length);
                    for (int k = first; k < end; k++)
                    {
                        outcome.Accepted.Add(records[k]);
                        outcome.AcceptedEventBytes += records[k].Data.Length;
                    }
                    continue;
                }
                var kind = ErrorClassifier.ClassifyRecord(code);
                if (kind == FailureKind.Permanent)
                {
                    for (int k = first; k < end; k++)
                        outcome.Rejected.Add(records[k]);
                    outcome.RejectedCode = code;
                    outcome.RejectedMessage = response.ErrorMessages[i];
                    continue;
                }
                outcome.Code = code;
                outcome.Message = response.ErrorMessages[i];
                if (kind == FailureKind.Throttled)
                {
                    outcome.Throttles++;
                    outcome.ThrottledEvents += end - first;
                }
                outcome.Retry ??= new List<BufferedRecord>();
                for (int k = first; k < end; k++)
                    outcome.Retry.Add(records[k]); // a packed record that failed is resent whole
            }
            return outcome;
        }
    }
}
