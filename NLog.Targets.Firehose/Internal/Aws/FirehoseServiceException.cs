using System;

namespace NLog.Targets.Firehose.Internal.Aws
{
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
}
