using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using NLog.Targets.Firehose.Internal.Buffering;

namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>
    /// The one Firehose operation the target needs. The real one signs and sends over HTTP
    /// (<see cref="FirehoseHttpClient"/>); tests substitute it.
    /// </summary>
    internal interface IFirehoseClient : IDisposable
    {
        /// <summary>
        /// Sends <paramref name="records"/> in one PutRecordBatch call.
        /// Returns the per-record outcome of a 200 response; throws <see cref="FirehoseServiceException"/> for an
        /// error response, and the transport's exception (<see cref="System.Net.Http.HttpRequestException"/>,
        /// <see cref="System.IO.IOException"/>, <see cref="TimeoutException"/>) for network faults.
        /// </summary>
        Task<PutRecordBatchResult> PutRecordBatchAsync(string deliveryStreamName, IReadOnlyList<BufferedRecord> records, CancellationToken cancellationToken);

        /// <summary>DescribeDeliveryStream: the stream's status and type (the optional start-up check).</summary>
        Task<DeliveryStreamDescription> DescribeDeliveryStreamAsync(string deliveryStreamName, CancellationToken cancellationToken);
    }

    /// <summary>The outcome of a PutRecordBatch call that returned 200.</summary>
    /// <summary>What the start-up check reads of a delivery stream.</summary>
    internal sealed class DeliveryStreamDescription
    {
        public DeliveryStreamDescription(string? status, string? type)
        {
            Status = status;
            Type = type;
        }

        /// <summary>CREATING, ACTIVE, DELETING, CREATING_FAILED, DELETING_FAILED.</summary>
        public string? Status { get; }

        /// <summary>DirectPut, KinesisStreamAsSource, MSKAsSource, DatabaseAsSource.</summary>
        public string? Type { get; }
    }

    internal sealed class PutRecordBatchResult
    {
        /// <summary>A result where every record was accepted.</summary>
        public static PutRecordBatchResult AllAccepted(int count) => new PutRecordBatchResult(0, new string?[count], new string?[count]);

        public PutRecordBatchResult(int failedPutCount, string?[] errorCodes, string?[] errorMessages)
        {
            FailedPutCount = failedPutCount;
            ErrorCodes = errorCodes;
            ErrorMessages = errorMessages;
        }

        /// <summary>How many records the service did not accept.</summary>
        public int FailedPutCount { get; }

        /// <summary>One entry per request record, in request order: null where accepted, else the error code.</summary>
        public string?[] ErrorCodes { get; }

        /// <summary>One entry per request record: the error message where it failed.</summary>
        public string?[] ErrorMessages { get; }
    }

    /// <summary>An error response from Firehose (any non-200 status).</summary>
    internal sealed class FirehoseServiceException : Exception
    {
        public FirehoseServiceException(int statusCode, string? errorCode, string? serviceMessage, string? requestId)
            : base(BuildMessage(statusCode, errorCode, serviceMessage, requestId))
        {
            StatusCode = statusCode;
            ErrorCode = errorCode;
            ServiceMessage = serviceMessage;
            RequestId = requestId;
        }

        /// <summary>The HTTP status code.</summary>
        public int StatusCode { get; }

        /// <summary>The sanitised error code, e.g. <c>ResourceNotFoundException</c>.</summary>
        public string? ErrorCode { get; }

        /// <summary>The service's message.</summary>
        public string? ServiceMessage { get; }

        /// <summary>The <c>x-amzn-RequestId</c> header, for AWS support.</summary>
        public string? RequestId { get; }

        /// <summary>How the target should react.</summary>
        public FailureKind Kind => ErrorClassifier.ClassifyCall(StatusCode, ErrorCode);

        private static string BuildMessage(int statusCode, string? errorCode, string? serviceMessage, string? requestId)
        {
            return $"Firehose returned HTTP {statusCode} {errorCode ?? "(no error code)"}: {serviceMessage ?? "(no message)"} (request id {requestId ?? "none"})";
        }
    }

    /// <summary>
    /// Events the target could not deliver: the exception that reaches NLog's failure path (and so a
    /// <c>FallbackGroup</c>).
    /// </summary>
    internal sealed class FirehoseDeliveryException : Exception
    {
        public FirehoseDeliveryException(string message, string? errorCode, Exception? inner = null)
            : base(message, inner)
        {
            ErrorCode = errorCode;
        }

        /// <summary>The last error code seen, if any.</summary>
        public string? ErrorCode { get; }
    }
}
